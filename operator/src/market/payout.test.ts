import { payout, refundFor, splitFee } from './payout.js';
import { prng } from './testing/prng.js';

describe('refundFor (rounded down)', () => {
  test.each([
    [1000n, 100, 100, 0n],
    [1000n, 100, 0, 1000n],
    [1000n, 3, 1, 666n], // 2000/3 = 666.7
    [1n, 2, 1, 0n],
    [0n, 10, 5, 0n],
    [1000n, 0, 0, 0n],
  ])('total %p, leased %p GPU-s, delivered %p → %p', (total, leased, delivered, want) => {
    expect(refundFor(total, leased, delivered)).toBe(want);
  });

  test('refuses more delivered than leased', () => {
    expect(() => refundFor(10n, 5, 6)).toThrow(RangeError);
  });
});

describe('splitFee', () => {
  test.each([
    [1000n, 100, 10n, 990n],
    [751n, 100, 7n, 744n], // 7.51 → 7
    [999n, 0, 0n, 999n],
    [999n, 10_000, 999n, 0n],
  ])('%p at %p bps → fee %p, providers %p', (charged, bps, fee, providers) => {
    expect(splitFee(charged, bps)).toEqual({ fee, providers });
  });
});

describe('payout', () => {
  test.each([
    ['delivered in full', 1000n, 100, [100], 100, 0n, 10n, [990n]],
    ['one third delivered, no fee', 1000n, 3, [1], 0, 666n, 0n, [334n]],
    ['three providers, even shares', 1001n, 4, [1, 1, 1], 100, 250n, 7n, [248n, 248n, 248n]],
    // charged 700, fee 17 (17.5), pot 683 → 292.7 and 390.3 → dust 1 to the fee
    ['dust goes to the pool', 1000n, 10, [3, 4], 250, 300n, 18n, [292n, 390n]],
    ['nothing delivered', 500n, 10, [0, 0], 100, 500n, 0n, [0n, 0n]],
  ])('%s', (_name, total, leased, delivered, bps, refund, fee, providers) => {
    expect(payout(total, leased, delivered, bps)).toEqual({ refund, fee, providers });
  });

  test('conserves the total and never refunds more than the undelivered share (seeded, 2000 cases)', () => {
    const r = prng(7);
    for (let i = 0; i < 2000; i++) {
      const total = BigInt(r.int(0, 1e9)) * BigInt(r.int(1, 1e6));
      const leased = r.int(1, 1e7);
      const delivered = Array.from({ length: r.int(1, 5) }, () => r.int(0, Math.floor(leased / 5)));
      const p = payout(total, leased, delivered, r.int(0, 10_000));
      expect(p.refund + p.fee + p.providers.reduce((a, b) => a + b, 0n)).toBe(total);
      const sum = delivered.reduce((a, b) => a + b, 0);
      expect(p.refund * BigInt(leased)).toBeLessThanOrEqual(total * BigInt(leased - sum));
      for (const x of p.providers) expect(x).toBeGreaterThanOrEqual(0n);
      expect(p.fee).toBeGreaterThanOrEqual(0n);
    }
  });
});
