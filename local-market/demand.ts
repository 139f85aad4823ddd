// A seeded stream of demo leases, so prices move: Poisson arrivals, sizes and durations drawn
// from small distributions, a willingness to pay around each pool's floor, and some leases
// cancelled early. Pure: the caller applies what it returns.
export type DemoLease = {
  readonly name: string;
  readonly namespace: 'team-a' | 'team-b';
  readonly pool: string;
  readonly gpus: number;
  readonly duration: string;
  readonly maxPerGpuHour: bigint;
  /** Cancel (delete) after this many ms, or never. */
  readonly cancelAfterMs: number | undefined;
  /** Runs on lent GPUs at the floor while the price is above its limit (every third lease of a pool that lends; it bids the floor). */
  readonly preemptible: boolean;
};

/** `lends`: the pool lends idle GPUs (spec.leases.lendIdleGpus). */
export type PoolDemand = { readonly name: string; readonly floor: bigint; readonly weight: number; readonly lends?: boolean };


export class DemandStream {
  private n = 0;
  constructor(
    private readonly pools: readonly PoolDemand[],
    private readonly random: () => number,
    /** Mean arrivals per minute. */
    private readonly perMinute: number,
  ) {}

  /** Milliseconds until the next arrival (exponential inter-arrival times). */
  nextDelayMs(): number {
    return Math.round((-Math.log(1 - this.random()) / this.perMinute) * 60_000);
  }

  next(): DemoLease {
    const r = this.random;
    const total = this.pools.reduce((s, p) => s + p.weight, 0);
    let x = r() * total;
    const pool = this.pools.find((p) => (x -= p.weight) < 0) ?? (this.pools[0] as PoolDemand);
    const gpus = [1, 1, 2, 2, 4, 8][Math.floor(r() * 6)] as number;
    const minutes = [2, 3, 5, 8, 13][Math.floor(r() * 5)] as number;
    // Willingness to pay: 1x to 4x the floor, so scarcity prices some buyers out.
    const willing = (pool.floor * BigInt(100 + Math.floor(r() * 300))) / 100n;
    // From the count, not a draw: the seeded sequence of everything else stays as it was.
    const preemptible = pool.lends === true && (this.n + 1) % 3 === 0;
    const cancelAfterMs = r() < 0.2 ? Math.round(minutes * 60_000 * (0.2 + 0.5 * r())) : undefined;
    this.n++;
    return {
      name: `demo-${pool.name}-${this.n}`,
      namespace: r() < 0.5 ? 'team-a' : 'team-b',
      pool: pool.name,
      gpus,
      duration: `${minutes}m`,
      // A pre-emptible lease is a batch job that bids the floor and runs on idle GPUs meanwhile.
      maxPerGpuHour: preemptible ? pool.floor : willing,
      cancelAfterMs,
      preemptible,
    };
  }
}
