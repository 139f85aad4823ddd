// Quotes per second of the pricing engine (goal: >= 1M per core), against a naive float
// implementation of the same curve measured in the same run. Prints figures; asserts nothing.
//   npx tsx bench/engine-quotes.ts [--seconds 1]
import { kCeiling, kFloor, quote, defaultParams, type PoolParams, type PoolState } from '../operator/src/market/index.js';

type Case = { state: PoolState; params: PoolParams; gpus: number; seconds: number };

/** Deterministic LCG: the same cases every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function makeCases(n: number): Case[] {
  const rnd = lcg(42);
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    const allocatable = [8, 64, 512, 4392][i % 4]!;
    const params = defaultParams(1_000_000n + BigInt(Math.floor(rnd() * 1e6)), allocatable);
    const free = Math.floor(rnd() * (allocatable + 1));
    const lo = kFloor(params, allocatable);
    const hi = kCeiling(params, free);
    const k = hi > lo ? lo + ((hi - lo) * BigInt(Math.floor(rnd() * 1e6))) / 1_000_000n : lo;
    const gpus = Math.min(free, 1 + Math.floor(rnd() * 8));
    cases.push({ state: { k, at: 0, allocatable, free }, params, gpus, seconds: 60 + Math.floor(rnd() * 7 * 86400) });
  }
  return cases;
}

/** The same curve in doubles: real-valued switch points, closed-form integral, no rounding rules. */
function floatQuote(c: Case): number {
  const K = Number(c.state.k) / 2 ** 64;
  const floor = Number(c.params.floor);
  const ceiling = Number(c.params.ceiling);
  const hi = c.state.free + c.params.depth;
  const lo = hi - c.gpus;
  const xc = Math.sqrt(K / ceiling);
  const xf = Math.max(xc, Math.sqrt(K / floor));
  let area = 0;
  area += ceiling * Math.max(0, Math.min(hi, xc) - lo);
  area += floor * Math.max(0, hi - Math.max(lo, xf));
  const a = Math.max(lo, xc);
  const b = Math.min(hi, xf);
  if (a < b) area += K * (1 / a - 1 / b);
  return Math.ceil((area * c.seconds) / 3600);
}

type Variant = { label: string; run: (i: number) => void };

/**
 * Interleaved slices of `sliceMs` per variant, `rounds` times: the best slice approximates an
 * uncontended core on a shared machine, the median what a busy one gives. Same cases for all.
 */
function measure(variants: Variant[], rounds: number, sliceMs: number): { label: string; best: number; median: number }[] {
  const rates = variants.map(() => [] as number[]);
  for (const v of variants) for (let i = 0; i < 50_000; i++) v.run(i); // warm up
  for (let round = 0; round < rounds; round++) {
    variants.forEach((v, j) => {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < sliceMs) {
        for (let i = 0; i < 2048; i++) v.run(n + i);
        n += 2048;
        t = performance.now();
      }
      rates[j]!.push((n * 1000) / (t - t0));
    });
  }
  return variants.map((v, j) => {
    const sorted = rates[j]!.sort((a, b) => a - b);
    return { label: v.label, best: sorted.at(-1)!, median: sorted[Math.floor(sorted.length / 2)]! };
  });
}

const seconds = (() => {
  const flag = process.argv.indexOf('--seconds');
  return flag > 0 ? Number(process.argv[flag + 1]) : 3;
})();
const cases = makeCases(4096);
const mask = cases.length - 1;
const resting = cases.map((c) => ({ ...c, state: { ...c.state, k: kFloor(c.params, c.state.allocatable) } }));
let sink = 0n;
let fsink = 0;
const variants: Variant[] = [
  {
    label: 'engine, busy pools (K anywhere in its range)',
    run: (i) => {
      const c = cases[i & mask]!;
      const r = quote(c.state, c.params, c.gpus, c.seconds);
      if (r.ok) sink += r.quote.total;
    },
  },
  {
    label: 'engine, pools at rest (K on the kink)',
    run: (i) => {
      const c = resting[i & mask]!;
      const r = quote(c.state, c.params, c.gpus, c.seconds);
      if (r.ok) sink += r.quote.total;
    },
  },
  { label: 'baseline: naive float, busy pools', run: (i) => void (fsink += floatQuote(cases[i & mask]!)) },
];
const sliceMs = 50;
const results = measure(variants, Math.max(3, Math.round((seconds * 1000) / (sliceMs * variants.length))), sliceMs);

let worst = 0;
for (const c of cases) {
  const r = quote(c.state, c.params, c.gpus, c.seconds);
  if (!r.ok || r.quote.total === 0n) continue;
  const d = Math.abs(Number(r.quote.total) - floatQuote(c)) / Number(r.quote.total);
  if (d > worst && process.env.DEBUG) console.log(d, c, r.quote, floatQuote(c));
  worst = Math.max(worst, d);
}

const base = results[2]!;
const m = (x: number): string => (x / 1e6).toFixed(2).padStart(6);
console.log(`node ${process.version}, one thread; best / median of interleaved ${sliceMs} ms slices`);
for (const r of results) {
  console.log(
    `${r.label.padEnd(46)} ${m(r.best)} / ${m(r.median)} M quotes/s   ${(r.best / base.best).toFixed(3)}× baseline`,
  );
}
console.log(`largest relative difference engine vs float, over ${cases.length} busy-pool quotes: ${worst.toExponential(2)}`);
const goal = Math.min(results[0]!.best, results[1]!.best) >= 1e6;
console.log(`goal >= 1M quotes/s per core (best slice, both mixes): ${goal ? 'met' : 'NOT met'}`);
if (sink < 0n || Number.isNaN(fsink)) console.log('');
