// Seeded pseudo-randomness: sfc32 seeded through splitmix32. One core for the engine's property
// tests, the scheduler extender's tests and the market simulator (simulator/random.ts builds its
// named streams on `sfc32`). Not part of the engine, and left out of the image's build.

/** splitmix32: a 32-bit state expanded into well-mixed words, to seed sfc32. */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** sfc32 seeded with four words of splitmix32(seed): uniform 32-bit unsigned integers. */
export function sfc32(seed: number): () => number {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
}

export type Prng = {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform integer in [lo, hi] */
  int(lo: number, hi: number): number;
  /** one of the items, uniformly */
  pick<T>(items: readonly T[]): T;
  /** exponential with the given mean */
  exp(mean: number): number;
  /** log-normal: median · e^(sigma · N(0,1)) */
  logNormal(median: number, sigma: number): number;
};

/** The property tests' generator. */
export function prng(seed: number): Prng {
  const u32 = sfc32(seed);
  const next = (): number => u32() / 4294967296;
  const normal = (): number => {
    const u = 1 - next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    exp: (mean) => -mean * Math.log(1 - next()),
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
  };
}

/** Uniform numbers in [0, 1) from `seed`: the plain stream for code that needs nothing more. */
export function uniform(seed: number): () => number {
  return prng(seed).next;
}
