// Planning a settlement batch from contract state: pure, no chain.
import { planSettlements, settlementArgs, validateSettlement } from '../../operator/src/settlement/settle-plan.js';
import { LeaseConflictError, SettlementInvalidError } from '../../operator/src/settlement/errors.js';
import type { LeaseOnChain, LeaseStatus, SettlementInstruction } from '../../operator/src/settlement/types.js';

const token = { address: '0x0000000000000000000000000000000000000001', symbol: 'tUSD', decimals: 6 };
const P = '0x00000000000000000000000000000000000000aa';
const id = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

const lease = (n: number, status: LeaseStatus, locked = 10_000_000n): LeaseOnChain => ({
  leaseId: id(n), status, reason: 'Completed', payer: P, openedAt: 1n, locked: status === 'Open' ? locked : 0n, treasury: P,
});
const settle = (n: number, amount: bigint, fee = 0n, refund = 0n, providers = [{ address: P, amount }]): SettlementInstruction => ({
  leaseId: id(n), providers, fee, refund, reason: 'Completed',
});

test('open leases go out, settled ones are reported, missing ones fail', () => {
  const plan = planSettlements(
    [settle(1, 10_000_000n), settle(2, 10_000_000n), settle(3, 10_000_000n), settle(1, 10_000_000n)],
    [lease(1, 'Open'), lease(2, 'Settled'), lease(3, 'None')],
    token,
  );
  expect(plan.toSend.map((s) => s.leaseId)).toEqual([id(1)]);
  expect(plan.alreadySettled).toEqual([id(2)]);
  expect(plan.rejected.get(id(3))).toBeInstanceOf(LeaseConflictError);
});

test.each([
  { name: 'exactly the locked amount', s: settle(1, 9_000_000n, 500_000n, 500_000n), problem: undefined },
  { name: 'no providers, all refunded', s: settle(1, 0n, 0n, 10_000_000n, []), problem: undefined },
  { name: 'over-settle', s: settle(1, 10_000_000n, 1n), problem: /credits 10\.000001 tUSD but 10 tUSD is locked/ },
  { name: 'under-settle', s: settle(1, 9_999_999n), problem: /credits 9\.999999 tUSD but 10 tUSD is locked/ },
  { name: 'negative fee', s: settle(1, 10_000_001n, -1n), problem: /must not be negative/ },
  { name: 'zero provider', s: settle(1, 10_000_000n, 0n, 0n, [{ address: '0x0000000000000000000000000000000000000000', amount: 10_000_000n }]), problem: /not a valid non-zero address/ },
  { name: 'malformed provider', s: settle(1, 10_000_000n, 0n, 0n, [{ address: '0x1234', amount: 10_000_000n }]), problem: /not a valid non-zero address/ },
  { name: 'unknown reason', s: { ...settle(1, 10_000_000n), reason: 'Bored' as never }, problem: /unknown close reason/ },
])('$name', ({ s, problem }) => {
  const err = validateSettlement(s, 10_000_000n, token);
  if (problem === undefined) expect(err).toBeUndefined();
  else {
    expect(err).toBeInstanceOf(SettlementInvalidError);
    expect(err!.message).toMatch(problem);
  }
});

test('settlementArgs: checksummed addresses and the numeric close reason', () => {
  expect(settlementArgs({ ...settle(1, 5n), reason: 'Expired' })).toEqual([id(1), ['0x00000000000000000000000000000000000000AA'], [5n], 0n, 0n, 4]);
});
