// `auction`: every provider (node) posts a static ask per GPU-hour, drawn once per seed from
// `reference · U(low, high)`; a buyer takes the cheapest free GPUs whose asks it accepts and pays
// each provider its ask (pay-as-ask). GPUs of one order may come from several nodes (the
// simulation does not bin-pack, for any policy).
import type { SimTask } from '../demand.js';
import { stream } from '../random.js';
import { costAt, orderValue, type Market, type MarketContext, type Sale } from './market.js';

export type AuctionOptions = {
  /** asks are reference · U(low, high) */
  readonly low: number;
  readonly high: number;
  readonly seed: number;
  /** instead of drawing: the ask of each node of each pool, × reference */
  readonly asks?: readonly (readonly number[])[];
};

type Book = {
  /** asks in ascending order, base units per GPU-hour */
  readonly asks: readonly bigint[];
  readonly askN: readonly number[];
  /** node index (within the pool) of each ask */
  readonly node: readonly number[];
  /** free milli-GPUs at each position of `asks` */
  readonly free: Int32Array;
  /** position of each node in `asks` */
  readonly position: Int32Array;
  /** no position before this one has free GPUs */
  first: number;
  total: number;
};

export function auctionMarket(ctx: MarketContext, options: AuctionOptions): Market {
  const rng = stream(options.seed, 'asks');
  const books: Book[] = ctx.pools.map((pool, p) => {
    const drawn = pool.nodes.map((n, i) => ({
      i,
      units: n.gpus * 1000,
      ask: BigInt(Math.round(ctx.reference[p]! * (options.asks?.[p]?.[i] ?? rng.uniform(options.low, options.high)))),
    }));
    drawn.sort((a, b) => (a.ask < b.ask ? -1 : a.ask > b.ask ? 1 : a.i - b.i));
    const position = new Int32Array(drawn.length);
    drawn.forEach((d, k) => (position[d.i] = k));
    return {
      asks: drawn.map((d) => d.ask),
      askN: drawn.map((d) => Number(d.ask)),
      node: drawn.map((d) => d.i),
      free: Int32Array.from(drawn.map((d) => d.units)),
      position,
      first: 0,
      total: pool.units,
    };
  });

  /** The order filled from the cheapest acceptable asks of `book`, or undefined. */
  function fill(book: Book, task: SimTask, maxAsk: number): { parts: [number, number][]; paid: bigint } | undefined {
    if (book.total < task.units) return undefined;
    let need = task.units;
    const parts: [number, number][] = [];
    let paid = 0n;
    for (let k = book.first; k < book.asks.length && need > 0; k++) {
      const f = book.free[k]!;
      if (f === 0) continue;
      if (book.askN[k]! > maxAsk) return undefined;
      const u = Math.min(f, need);
      parts.push([k, u]);
      paid += costAt(book.asks[k]!, u, task.seconds);
      need -= u;
    }
    return need === 0 ? { parts, paid } : undefined;
  }

  return {
    drifts: false,
    tryServe(task: SimTask, now: number): Sale | undefined {
      let best = -1;
      let bestSurplus = -Infinity;
      let bestFill: { parts: [number, number][]; paid: bigint } | undefined;
      for (const p of task.pools) {
        const f = fill(books[p]!, task, task.multiplier * ctx.reference[p]!);
        if (!f) continue;
        const surplus = orderValue(ctx, task, p) - Number(f.paid);
        if (surplus > bestSurplus) {
          best = p;
          bestSurplus = surplus;
          bestFill = f;
        }
      }
      if (!bestFill) return undefined;
      const book = books[best]!;
      for (const [k, u] of bestFill.parts) book.free[k]! -= u;
      book.total -= task.units;
      while (book.first < book.asks.length && book.free[book.first] === 0) book.first++;
      const parts = bestFill.parts.map(([k, u]) => [book.node[k]!, u] as const);
      return { task, pool: best, start: now, paid: bestFill.paid, parts };
    },
    willWait: (task) => task.pools.some((p) => books[p]!.askN.length > 0 && books[p]!.askN[0]! <= task.multiplier * ctx.reference[p]!),
    release(sale: Sale): void {
      const book = books[sale.pool]!;
      for (const [node, u] of sale.parts ?? []) {
        const k = book.position[node]!;
        book.free[k]! += u;
        if (k < book.first) book.first = k;
      }
      book.total += sale.task.units;
    },
    price(pool: number): number | undefined {
      const book = books[pool]!;
      return book.first < book.askN.length ? book.askN[book.first] : undefined;
    },
    free: (pool) => books[pool]!.total,
  };
}
