// Seeded randomness for the simulator: the shared sfc32 core (operator/src/market/testing/prng.ts)
// and the few distributions the demand model needs. Every draw comes from a stream named by
// (seed, purpose), so adding a draw to one purpose never shifts another.
import { sfc32 } from '../operator/src/market/testing/prng.js';

export type Random = {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform in [lo, hi) */
  uniform(lo: number, hi: number): number;
  /** standard normal */
  normal(): number;
  /** median · e^(sigma · N(0,1)) */
  logNormal(median: number, sigma: number): number;
  /** exponential with the given mean */
  exponential(mean: number): number;
};

/** FNV-1a of a string, to name streams. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The stream for `purpose` under `seed`. */
export function stream(seed: number, purpose: string): Random {
  const u32 = sfc32((seed * 0x2545f491) ^ hash(purpose));
  const next = (): number => u32() / 4294967296;
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    exponential: (mean) => -mean * Math.log(1 - next()),
  };
}
