// The pool event log. Every change to a pool is one of these events, stamped with the time it
// happened; replaying the log from the first event gives the same states and prices, bit for bit,
// so any price the operator charged can be audited.
import { openPool, relax, release, setCapacity, spotPrice, take, type PoolState, type Quote } from './pool.js';
import type { PoolParams } from './params.js';

export type CapacityEvent = {
  readonly kind: 'capacity';
  readonly at: number;
  readonly allocatable: number;
  readonly free: number;
};
export type TakeEvent = {
  readonly kind: 'take';
  readonly at: number;
  readonly gpus: number;
  readonly seconds: number;
  /** the lease, for the audit trail; not used by the engine */
  readonly lease?: string;
  /** the total that was charged, if recorded: replay checks it */
  readonly total?: bigint;
};
export type ReleaseEvent = { readonly kind: 'release'; readonly at: number; readonly gpus: number; readonly lease?: string };
export type TickEvent = { readonly kind: 'tick'; readonly at: number };

/** The first event of a log is a `capacity` event: it opens the pool. */
export type PoolEvent = CapacityEvent | TakeEvent | ReleaseEvent | TickEvent;

export const POOL_EVENT_KINDS = ['capacity', 'take', 'release', 'tick'] as const;

export type Applied = {
  readonly state: PoolState;
  /** for a take: the quote it was charged at */
  readonly quote?: Quote;
};

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(`event ${index}: ${message}`);
  }
}

/**
 * Apply one event: relax K to the event's time under the capacity held until then, then apply the
 * change. `state` undefined opens the pool (the event must then be `capacity`). Throws a
 * RangeError for a take the pool cannot fill or a release beyond allocatable.
 */
export function applyEvent(state: PoolState | undefined, params: PoolParams, event: PoolEvent): Applied {
  if (state === undefined) {
    if (event.kind !== 'capacity') throw new RangeError('the first event of a pool must be a capacity event');
    return { state: openPool(params, event, event.at) };
  }
  const now = relax(state, params, event.at);
  switch (event.kind) {
    case 'capacity':
      return { state: setCapacity(now, params, event) };
    case 'take': {
      const r = take(now, params, event.gpus, event.seconds);
      if (!r.ok) throw new RangeError(`take of ${event.gpus} GPUs with ${r.free} free`);
      return { state: r.state, quote: r.quote };
    }
    case 'release':
      return { state: release(now, params, event.gpus) };
    case 'tick':
      return { state: now };
  }
}

export type ReplayStep = {
  readonly event: PoolEvent;
  readonly state: PoolState;
  /** spot price per GPU-hour right after the event */
  readonly spot: bigint;
  readonly quote?: Quote;
};

/** Replay a whole log: the state and spot price after every event. Events must be in time order. */
export function replay(params: PoolParams, events: readonly PoolEvent[]): ReplayStep[] {
  const steps: ReplayStep[] = [];
  let state: PoolState | undefined;
  let last = -Infinity;
  events.forEach((event, i) => {
    if (event.at < last) throw new ReplayError(`time goes backwards (${event.at} < ${last})`, i);
    last = event.at;
    let applied: Applied;
    try {
      applied = applyEvent(state, params, event);
    } catch (cause) {
      if (cause instanceof RangeError) throw new ReplayError(cause.message, i);
      throw cause;
    }
    state = applied.state;
    const step: ReplayStep = { event, state, spot: spotPrice(state, params) };
    steps.push(applied.quote ? { ...step, quote: applied.quote } : step);
  });
  return steps;
}

export type Discrepancy = { readonly index: number; readonly recorded: bigint; readonly replayed: bigint };

/** Takes whose recorded total differs from the replayed one (empty when the log is consistent). */
export function audit(params: PoolParams, events: readonly PoolEvent[]): Discrepancy[] {
  const out: Discrepancy[] = [];
  replay(params, events).forEach((step, index) => {
    const e = step.event;
    if (e.kind === 'take' && e.total !== undefined && step.quote && step.quote.total !== e.total) {
      out.push({ index, recorded: e.total, replayed: step.quote.total });
    }
  });
  return out;
}
