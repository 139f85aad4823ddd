// The ComputeLease reconciler: Pending → (Waiting) → Reserved → Funded → Active → Ending → Settled,
// or Expired / Failed. Level-triggered and idempotent: every step re-reads the world (caches, the
// chain) and a crash between any two steps converges to the same end state — the chain client's
// open and settle find a lease already handled on-chain and send nothing, and settlement amounts
// are computed from the lease's persisted status only.
import type { V1Node, V1Secret } from '@kubernetes/client-node';
import { COMPUTE_LEASES } from '../api/resources.js';
import { formatDuration, parseDuration } from '../api/duration.js';
import { heldReservations, type ComputeLease, type ComputeLeaseStatus, type GpuPool, type Reservation } from '../api/types.js';
import type { Clock } from '../kube/clock.js';
import type { ReconcileContext, ReconcileResult } from '../kube/controller.js';
import type { EventRecorder } from '../kube/events.js';
import { apiCode } from '../kube/errors.js';
import { hasFinalizer, isDeleting, addFinalizer, removeFinalizer } from '../kube/finalizers.js';
import type { Informer } from '../kube/informer.js';
import { objectKey } from '../kube/resources.js';
import type { RestClient } from '../kube/rest.js';
import { updateStatus } from '../kube/status.js';
import { nodeReady } from '../inventory/inventory.js';
import { PAYOUT_LABEL } from '../inventory/labels.js';
import { lentCost, quote as quoteEngine } from '../market/index.js';
import type { MarketView } from '../pools/market-view.js';
import { leaseIdOf, type ChainClient } from '../settlement/index.js';
import { checkAuthorization } from './authorization.js';
import { nextStatus, notOk, ok } from './conditions.js';
import type { ReservationLedger } from './ledger.js';
import { place, type PlaceableNode } from './placement.js';
import { chargedUntil, settlementPlan } from './settlement-plan.js';
import { chooseEvictions, lendingCap, lentTerms, limitPerGpuHour, remainingSeconds, secondsRunAt } from './lent.js';
import { maxTotal, refuse, waitDeadlineMs } from './validation.js';
import { classifyChainError } from './chain-errors.js';

export const LEASE_FINALIZER = 'pinfi.io/settlement';

export type LeaseHooks = {
  /** The lease turned Active: let its pods schedule (remove their scheduling gates). */
  onActive?(lease: ComputeLease): Promise<void>;
  /** The lease is Ending: evict its pods; resolves true once none is left. */
  onEnding?(lease: ComputeLease): Promise<boolean>;
};

export type LeaseReconcilerDeps = {
  rest: RestClient;
  leases: Informer<ComputeLease>;
  pools: Informer<GpuPool>;
  nodes: Informer<V1Node>;
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  market: MarketView;
  ledger: ReservationLedger;
  /** Undefined when no chain is configured: leases wait with a condition saying so. */
  chain: ChainClient | undefined;
  recorder: EventRecorder;
  clock: Clock;
  hooks?: LeaseHooks;
  onChainError?(kind: string): void;
  /** A pre-emptible lease in `pool` was lent GPUs, pre-empted, resumed, or turned priced. */
  onLending?(pool: string, event: LendingEvent): void;
};

export type LendingEvent = 'lent' | 'preempted' | 'resumed' | 'priced';

type Step = { lease: ComputeLease } | { wait: number | undefined };

/** Longest an Active lease goes without a reconcile (its node losses come as events). */
const ACTIVE_RECHECK_MS = 10 * 60_000;

/** How often a lease on lent GPUs looks whether the price for the rest of it has come within its budget. */
const LENT_RECHECK_MS = 60_000;

/** How long a pre-empted lease waits to resume past its own deadline before it settles for what it ran. */
const RESUME_WAIT_MS = 3600_000;

/** How long a chain call may take before the lease says it is waiting for the chain. */
const SLOW_CHAIN_MS = 8_000;

/**
 * Awaits a chain call that retries on its own for as long as the chain is unreachable; if it has
 * not finished after SLOW_CHAIN_MS, `onSlow` runs once (to raise a condition), and the wait goes on.
 */
async function withSlowNotice<T>(work: Promise<T>, onSlow: () => Promise<void>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<'slow'>((r) => (timer = setTimeout(() => r('slow'), SLOW_CHAIN_MS)));
  try {
    const first = await Promise.race([work, slow]);
    if (first !== 'slow') return first as T;
    await onSlow().catch(() => undefined);
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function makeLeaseReconciler(deps: LeaseReconcilerDeps) {
  const keyOf = (l: ComputeLease) => objectKey(l);

  async function write(lease: ComputeLease, status: ComputeLeaseStatus): Promise<ComputeLease> {
    const { object } = await updateStatus(deps.rest, COMPUTE_LEASES, lease, status, { fieldManager: 'pinfi-operator' });
    deps.ledger.record(keyOf(lease), lease.spec.pool, heldReservations(status), lentTerms(lease, status));
    return object;
  }

  /** Free GPUs per member node of the pool, with the ledger's view of reservations. */
  function placeable(pool: string): PlaceableNode[] {
    const m = deps.market.get(pool);
    if (!m) return [];
    const held = deps.ledger.heldByNode(pool);
    return m.inventory.members.flatMap((n) => {
      const node = deps.nodes.store.get(n.name);
      const payout = node?.metadata?.labels?.[PAYOUT_LABEL] ?? node?.metadata?.annotations?.[PAYOUT_LABEL];
      if (!payout || !/^0x[0-9a-fA-F]{40}$/.test(payout)) return [];
      return [{ name: n.name, free: Math.max(0, n.allocatable - n.usedByOthers - (held.get(n.name) ?? 0)), payoutAddress: payout }];
    });
  }

  async function pendingStep(lease: ComputeLease, nowMs: number): Promise<Step> {
    const pool = deps.pools.store.get(lease.spec.pool);
    const wait = async (phase: 'Pending' | 'Waiting', reason: string, message: string, ms: number): Promise<Step> => {
      if (nowMs > waitDeadlineMs(lease)) {
        const st = nextStatus(lease, 'Expired', nowMs, [notOk('Ready', 'DeadlinePassed', `no acceptable offer before the deadline (last: ${message}); nothing was charged`)], { closeReason: 'Expired' });
        deps.recorder.normal(lease, 'Expired', st.message ?? 'expired');
        return { lease: await write(lease, st) };
      }
      const st = nextStatus(lease, phase, nowMs, [notOk('Ready', reason, message)]);
      if (lease.status?.phase !== phase || lease.status?.message !== st.message) {
        deps.recorder.normal(lease, reason, message);
        await write(lease, st);
      }
      return { wait: ms };
    };
    if (!pool) return wait('Pending', 'PoolNotFound', `GpuPool ${lease.spec.pool} does not exist`, 30_000);
    if (isDeleting(pool)) return wait('Pending', 'PoolTerminating', `GpuPool ${lease.spec.pool} is being deleted`, 30_000);
    const refusal = refuse(lease, pool);
    if (refusal) {
      const st = nextStatus(lease, 'Failed', nowMs, [notOk('Ready', refusal.reason, refusal.message)]);
      deps.recorder.warning(lease, refusal.reason, refusal.message);
      return { lease: await write(lease, st) };
    }
    if (!deps.chain) return wait('Pending', 'ChainNotConfigured', 'the operator has no settlement chain configured (--rpc-url, --escrow-address)', 60_000);
    const ref = lease.spec.payer.authorizationSecretRef.name;
    const secret = await deps.readSecret(lease.metadata?.namespace ?? '', ref);
    if (!secret) return wait('Pending', 'AuthorizationMissing', `waiting for Secret ${ref} with the payer's signed authorisation (kubectl pinfi sign)`, 3_000);
    const auth = checkAuthorization(lease, secret, deps.chain.domain, Math.floor(nowMs / 1000));
    if (!auth.ok) return wait('Pending', auth.reason, auth.message, 5_000);

    return placeStep(lease, pool, nowMs, wait);
  }

  /**
   * Places a lease (a new one, or a pre-empted one resuming the rest of its duration) under the
   * pool's lock: priced when the quote is within its budget, evicting lent leases if the GPUs are
   * only free that way; else, for a preemptible lease in a pool that lends, on idle GPUs at the
   * floor; else it waits. The ledger takes the GPUs before the lock is let go; status writes happen
   * outside it (the evicted leases' first), so placements in one pool do not queue behind each
   * other's API round trips. A failed write gives the GPUs back.
   */
  async function placeStep(lease: ComputeLease, pool: GpuPool, nowMs: number, wait: (phase: 'Pending' | 'Waiting', reason: string, message: string, ms: number) => Promise<Step>): Promise<Step> {
    const name = lease.spec.pool;
    const resume = lease.status?.phase === 'Preempted';
    const decide = await deps.ledger.withPool(name, async (): Promise<() => Promise<Step>> => {
      const nowSec = Math.floor(nowMs / 1000);
      const m = deps.market.stateAt(name, nowSec);
      if (!m) return () => wait('Pending', 'PoolNotPriced', `GpuPool ${name} has not been priced yet`, 2_000);
      const nodes = placeable(name);
      const free = nodes.reduce((s, n) => s + n.free, 0);
      const lends = pool.spec.leases?.lendIdleGpus === true;
      // Leases lent before the pool stopped lending (lendIdleGpus turned off) can still be evicted.
      const lentAll = deps.ledger.lent(name).filter((l) => l.key !== keyOf(lease));
      const lentGpus = lentAll.reduce((s, l) => s + l.gpus, 0);
      // Only Active lent leases are evicted: one still opening its escrow is left to finish.
      const lent = lentAll.filter((l) => deps.leases.store.get(l.key)?.status?.phase === 'Active');
      const seconds = remainingSeconds(lease);
      const budget = resume ? BigInt(lease.status?.chain?.locked ?? '0') - chargedUntil(lease, nowSec) : maxTotal(lease);
      // Lent GPUs are free as far as the curve is concerned: a priced lease may take them.
      const r = quoteEngine({ ...m.state, free: Math.min(free + lentGpus, m.state.allocatable) }, m.market.params, lease.spec.gpus, seconds);
      const gpusText = `${lease.spec.gpus} GPUs × ${formatDuration(seconds)}`;
      if (r.ok && r.quote.total <= budget) {
        const choice = chooseEvictions(nodes, lent, lease.spec.gpus);
        if (!choice) return () => wait('Waiting', 'InsufficientCapacity', `pool ${name} has ${free} free GPUs with a payout address; ${lease.spec.gpus} asked`, 10_000);
        const evicted = choice.evict.flatMap((e) => {
          const other = deps.leases.store.get(e.key);
          return other ? [{ lease: other, status: preemptedStatus(other, lease, nowMs) }] : [];
        });
        const price = r.quote.perGpuHour.toString();
        const quote = { pricePerGpuHour: price, total: r.quote.total.toString(), spotPrice: r.quote.spotBefore.toString(), spotPriceAfter: r.quote.spotAfter.toString(), feeBps: m.market.params.feeBps, quotedAt: iso(nowMs) };
        const placed = choice.reservation.map((x) => `${x.node}: ${x.gpus}`).join(', ');
        const st = resume
          ? resumedStatus(lease, nowMs, choice.reservation.map((x) => ({ ...x, pricePerGpuHour: price })), false, `priced at ${price} per GPU-hour for the rest (${r.quote.total}) on ${placed}`, quote)
          : nextStatus(lease, 'Reserved', nowMs, [ok('Quoted', 'WithinLimit', `${r.quote.total} for ${gpusText}`), ok('Reserved', 'Placed', placed), notOk('Ready', 'Funding', 'opening the escrow on-chain')], {
              quote,
              reservation: choice.reservation,
              chain: { leaseId: leaseIdOf({ namespace: lease.metadata?.namespace ?? '', name: lease.metadata?.name ?? '', uid: lease.metadata?.uid ?? '' }) },
            });
        for (const e of evicted) deps.ledger.record(keyOf(e.lease), name, []);
        deps.ledger.record(keyOf(lease), name, heldReservations(st), lentTerms(lease, st));
        return async () => {
          const undo = () => {
            for (const e of evicted) deps.ledger.record(keyOf(e.lease), name, heldReservations(e.lease.status), lentTerms(e.lease, e.lease.status));
            deps.ledger.record(keyOf(lease), name, heldReservations(lease.status), lentTerms(lease, lease.status));
          };
          let next: ComputeLease;
          try {
            for (const e of evicted) {
              await write(e.lease, e.status);
              deps.recorder.normal(e.lease, 'Preempted', e.status.message ?? 'pre-empted');
              deps.onLending?.(name, 'preempted');
            }
            next = await write(lease, st);
          } catch (err) {
            undo();
            throw err;
          }
          if (resume) {
            deps.recorder.normal(lease, 'Resumed', st.message ?? 'resumed');
            deps.onLending?.(name, 'resumed');
            await deps.hooks?.onActive?.(next);
          } else deps.recorder.normal(lease, 'Reserved', `${r.quote.total} locked price for ${lease.spec.gpus} GPUs on ${choice.reservation.map((x) => `${x.node} (${x.gpus})`).join(', ')}`);
          return { lease: next };
        };
      }
      if (lends && lease.spec.preemptible) {
        const cost = lentCost(m.market.params, lease.spec.gpus, seconds);
        // Its limit per GPU-hour covers the floor (comparing totals would let rounding refuse a
        // limit of exactly the floor); the settlement never charges more than was locked.
        const affordable = limitPerGpuHour(lease) >= m.market.params.floor && budget > 0n;
        const why = r.ok ? `the price is ${r.quote.perGpuHour} per GPU-hour, above the limit` : `no GPUs for a priced lease`;
        const cap = lendingCap(pool.spec.leases?.maxLent, m.state.allocatable);
        if (affordable && lentGpus + lease.spec.gpus > cap) {
          return () => wait('Waiting', 'LendingLimit', `${why}; pool ${name} lends at most ${cap} GPUs (spec.leases.maxLent) and ${lentGpus} are lent: waiting for the price to fall or for lent GPUs to come back`, 15_000);
        }
        const reservation = affordable ? place(nodes, lease.spec.gpus) : undefined;
        if (reservation) {
          const floor = m.market.params.floor.toString();
          const entries = reservation.map((x) => ({ ...x, pricePerGpuHour: floor }));
          const placed = reservation.map((x) => `${x.node}: ${x.gpus}`).join(', ');
          const quote = { pricePerGpuHour: floor, total: cost.toString(), spotPrice: r.ok ? r.quote.spotBefore.toString() : floor, feeBps: m.market.params.feeBps, quotedAt: iso(nowMs) };
          const st = resume
            ? resumedStatus(lease, nowMs, entries, true, `running on lent GPUs at the floor (${floor} per GPU-hour) on ${placed}; ${why}`, quote)
            : nextStatus(lease, 'Reserved', nowMs, [ok('Quoted', 'LentAtFloor', `${why}: ${cost} at the floor for ${gpusText} on lent GPUs, pre-emptible`), ok('Reserved', 'Placed', placed), notOk('Ready', 'Funding', 'opening the escrow on-chain')], {
                quote,
                reservation: entries,
                preemptible: true,
                chain: { leaseId: leaseIdOf({ namespace: lease.metadata?.namespace ?? '', name: lease.metadata?.name ?? '', uid: lease.metadata?.uid ?? '' }) },
              });
          deps.ledger.record(keyOf(lease), name, heldReservations(st), lentTerms(lease, st));
          return async () => {
            let next: ComputeLease;
            try {
              next = await write(lease, st);
            } catch (err) {
              deps.ledger.record(keyOf(lease), name, heldReservations(lease.status), lentTerms(lease, lease.status));
              throw err;
            }
            deps.recorder.normal(lease, resume ? 'Resumed' : 'Lent', st.message ?? 'lent');
            deps.onLending?.(name, resume ? 'resumed' : 'lent');
            if (resume) await deps.hooks?.onActive?.(next);
            return { lease: next };
          };
        }
      }
      if (!r.ok) return () => wait('Waiting', 'InsufficientCapacity', `pool ${name} has ${r.free} free GPUs; ${lease.spec.gpus} asked`, 10_000);
      if (free < lease.spec.gpus && lentGpus === 0) return () => wait('Waiting', 'InsufficientCapacity', `pool ${name} has ${free} free GPUs with a payout address; ${lease.spec.gpus} asked`, 10_000);
      return () => wait('Waiting', 'PriceAboveLimit', `the price is ${r.quote.total} (${r.quote.perGpuHour} per GPU-hour), above the limit of ${budget}; waiting for it to fall`, 15_000);
    });
    return decide();
  }

  /** The status of a lent lease pre-empted by `by` at `nowMs`: its GPUs given back, the time it ran counted. */
  function preemptedStatus(lease: ComputeLease, by: ComputeLease, nowMs: number): ComputeLeaseStatus {
    const nowSec = Math.floor(nowMs / 1000);
    const run = secondsRunAt(lease, nowSec);
    const left = Math.max(0, (parseDuration(lease.spec.duration) ?? 0) - run);
    const reservation = (lease.status?.reservation ?? []).map((r) => (r.releasedAt || r.lostAt ? r : { ...r, releasedAt: iso(nowMs) }));
    const msg = `pre-empted by the priced lease ${keyOf(by)}; ${formatDuration(left)} of its duration left, waiting for GPUs to run it`;
    return nextStatus(lease, 'Preempted', nowMs, [notOk('Ready', 'Preempted', msg)], {
      reservation,
      secondsRun: run,
      preemptions: (lease.status?.preemptions ?? 0) + 1,
      preemptedAt: iso(nowMs),
      endTime: iso(nowMs),
    });
  }

  /** A pre-empted lease running again from `nowMs`, on lent GPUs or priced, for what is left of its duration. */
  function resumedStatus(lease: ComputeLease, nowMs: number, entries: readonly Reservation[], lentGpus: boolean, message: string, quote: NonNullable<ComputeLeaseStatus['quote']>): ComputeLeaseStatus {
    const left = remainingSeconds(lease);
    const added = entries.map((r) => ({ ...r, addedAt: iso(nowMs) }));
    return nextStatus(lease, 'Active', nowMs, [ok('Ready', 'Active', `${message}; until ${iso(nowMs + left * 1000)}`)], {
      reservation: [...(lease.status?.reservation ?? []), ...added],
      preemptible: lentGpus,
      quote,
      endTime: iso(nowMs + left * 1000),
    });
  }

  async function fundStep(lease: ComputeLease, nowMs: number): Promise<Step> {
    if (!deps.chain) return { wait: 60_000 };
    const secret = await deps.readSecret(lease.metadata?.namespace ?? '', lease.spec.payer.authorizationSecretRef.name);
    const auth = secret && checkAuthorization(lease, secret, deps.chain.domain, Math.floor(nowMs / 1000));
    // A lease on lent GPUs locks its whole limit: if it is priced later, the rest is paid from it.
    const amount = lease.status?.preemptible ? maxTotal(lease) : BigInt(lease.status?.quote?.total ?? '0');
    try {
      if (!auth || !auth.ok) throw Object.assign(new Error(auth && !auth.ok ? auth.message : 'the authorisation Secret is gone'), { fundingRefused: true });
      const chain = deps.chain;
      const res = await withSlowNotice(chain.openLease(auth.auth, amount), async () => {
        deps.onChainError?.('open');
        lease = await write(lease, nextStatus(lease, 'Reserved', nowMs, [notOk('ChainAvailable', 'ChainUnavailable', `waiting for the chain to open the escrow: ${chain.waitingFor().join('; ') || 'no answer yet'}`)]));
      });
      // Funded and Active in one status write (the Funded condition records the escrow): a lease
      // costs the API server one write fewer, and a crash in between would only repeat the open,
      // which finds the escrow already open.
      const seconds = parseDuration(lease.spec.duration) ?? 0;
      const st = nextStatus(
        lease,
        'Active',
        nowMs,
        [
          ok('Funded', res.status === 'opened' ? 'EscrowOpened' : 'EscrowFoundOpen', `${amount} locked in escrow (tx ${res.txHash ?? 'unknown'})`),
          ok('ChainAvailable', 'Reachable', 'the chain answered'),
          ok('Ready', 'Active', lease.status?.preemptible ? `on lent GPUs at the floor until ${iso(nowMs + seconds * 1000)}, unless a priced lease needs them first` : `GPUs are yours until ${iso(nowMs + seconds * 1000)}`),
        ],
        {
          chain: { ...lease.status?.chain, leaseId: res.leaseId, ...(res.txHash ? { openTx: res.txHash } : {}), locked: amount.toString() },
          startTime: iso(nowMs),
          endTime: iso(nowMs + seconds * 1000),
        },
      );
      deps.recorder.normal(lease, 'Funded', `escrow opened on-chain: ${amount} locked (tx ${res.txHash ?? 'found open'}); active until ${st.endTime}`);
      const next = await write(lease, st);
      await deps.hooks?.onActive?.(next);
      return { lease: next };
    } catch (err) {
      const c = classifyChainError(err);
      if (c.retry) {
        deps.onChainError?.('open');
        const st = nextStatus(lease, 'Reserved', nowMs, [notOk('ChainAvailable', 'ChainUnavailable', `cannot open the escrow yet: ${c.message}; retrying`)]);
        if (lease.status?.message !== st.message) await write(lease, st);
        throw new Error(`open escrow for ${keyOf(lease)}: ${c.message}`, { cause: err });
      }
      const st = nextStatus(lease, 'Failed', nowMs, [notOk('Funded', 'FundingFailed', c.message), notOk('Ready', 'FundingFailed', `funding failed: ${c.message}; the reservation was released and nothing was charged`)], { closeReason: 'FundingFailed' });
      deps.recorder.warning(lease, 'FundingFailed', c.message);
      return { lease: await write(lease, st) };
    }
  }

  async function activate(lease: ComputeLease, nowMs: number): Promise<Step> {
    const seconds = parseDuration(lease.spec.duration) ?? 0;
    const st = nextStatus(lease, 'Active', nowMs, [ok('Ready', 'Active', `GPUs are yours until ${iso(nowMs + seconds * 1000)}`)], { startTime: iso(nowMs), endTime: iso(nowMs + seconds * 1000) });
    const next = await write(lease, st);
    deps.recorder.normal(lease, 'Active', `lease active until ${st.endTime}`);
    await deps.hooks?.onActive?.(next);
    return { lease: next };
  }

  async function activeStep(lease: ComputeLease, nowMs: number): Promise<Step> {
    const end = new Date(lease.status?.endTime ?? 0).getTime();
    // Lost nodes: stop charging for them and re-place their GPUs if the pool has free ones.
    const reservation = [...(lease.status?.reservation ?? [])];
    const lost = reservation.filter((r) => !r.lostAt && !r.releasedAt && !(deps.nodes.store.get(r.node) && nodeReady(deps.nodes.store.get(r.node) as V1Node)));
    if (lost.length > 0 && nowMs < end) {
      return deps.ledger.withPool(lease.spec.pool, async () => {
        const lostSet = new Set(lost.map((r) => r.node));
        const marked: Reservation[] = reservation.map((r) => (lostSet.has(r.node) && !r.lostAt ? { ...r, lostAt: iso(nowMs) } : r));
        const need = lost.reduce((s, r) => s + r.gpus, 0);
        const candidates = placeable(lease.spec.pool).filter((n) => !lostSet.has(n.name));
        const extra = place(candidates, need) ?? [];
        const price = lost.find((r) => r.pricePerGpuHour !== undefined)?.pricePerGpuHour;
        const added = extra.map((r) => ({ ...r, addedAt: iso(nowMs), ...(price !== undefined ? { pricePerGpuHour: price } : {}) }));
        const msg = `node(s) ${[...lostSet].join(', ')} lost; ${need} GPU(s) not charged from now${added.length ? `, re-placed on ${added.map((r) => `${r.node} (${r.gpus})`).join(', ')}` : ', no free GPUs to re-place them'}`;
        deps.recorder.warning(lease, 'NodeLost', msg);
        const st = nextStatus(lease, 'Active', nowMs, [notOk('Healthy', 'NodeLost', msg)], { reservation: [...marked, ...added] });
        return { lease: await write(lease, st) };
      });
    }
    if (nowMs >= end) {
      const st = nextStatus(lease, 'Ending', nowMs, [ok('Ready', 'Ending', 'the lease time is over: stopping its pods and settling')], { closeReason: lease.status?.closeReason ?? 'Completed' });
      return { lease: await write(lease, st) };
    }
    if (lease.status?.preemptible) {
      const priced = await priceLentStep(lease, nowMs, end);
      if (priced) return priced;
      return { wait: Math.min(end - nowMs, LENT_RECHECK_MS) };
    }
    // Node losses arrive as node events (the controller watches the reserved nodes), so the only
    // timer an Active lease needs is its end; the cap is a safety net, not the way losses are seen.
    return { wait: Math.min(end - nowMs, ACTIVE_RECHECK_MS) };
  }

  /**
   * A lease on lent GPUs becomes a priced lease on the same GPUs once the quote for the rest of
   * its time fits what is left of its locked budget: the lent entries are given back and the same
   * GPUs entered again at the quote's price, and it can no longer be pre-empted. Undefined: not yet.
   */
  async function priceLentStep(lease: ComputeLease, nowMs: number, endMs: number): Promise<Step | undefined> {
    const name = lease.spec.pool;
    const pool = deps.pools.store.get(name);
    if (!pool || isDeleting(pool)) return undefined;
    return deps.ledger.withPool(name, async () => {
      const nowSec = Math.floor(nowMs / 1000);
      const m = deps.market.stateAt(name, nowSec);
      if (!m) return undefined;
      const held = (lease.status?.reservation ?? []).filter((r) => !r.releasedAt && !r.lostAt);
      const gpus = held.reduce((s, r) => s + r.gpus, 0);
      const seconds = Math.floor((endMs - nowMs) / 1000);
      if (gpus === 0 || seconds <= 0) return undefined;
      const free = placeable(name).reduce((s, n) => s + n.free, 0);
      const lent = deps.ledger.lent(name);
      // Pre-empted meanwhile by a priced lease whose status write is under way: not ours to price.
      if (!lent.some((l) => l.key === keyOf(lease))) return undefined;
      const lentGpus = lent.reduce((s, l) => s + l.gpus, 0); // this lease's included
      const r = quoteEngine({ ...m.state, free: Math.min(free + lentGpus, m.state.allocatable) }, m.market.params, gpus, seconds);
      const budget = BigInt(lease.status?.chain?.locked ?? '0') - chargedUntil(lease, nowSec);
      if (!r.ok || r.quote.total > budget) return undefined;
      const price = r.quote.perGpuHour.toString();
      const at = iso(nowMs);
      const reservation = [
        ...(lease.status?.reservation ?? []).map((x) => (x.releasedAt || x.lostAt ? x : { ...x, releasedAt: at })),
        ...held.map((x) => ({ node: x.node, gpus: x.gpus, ...(x.payoutAddress !== undefined ? { payoutAddress: x.payoutAddress } : {}), addedAt: at, pricePerGpuHour: price })),
      ];
      const msg = `priced at ${price} per GPU-hour for the rest (${r.quote.total} for ${gpus} GPUs × ${formatDuration(seconds)}); no longer pre-emptible; until ${lease.status?.endTime}`;
      const quote = { pricePerGpuHour: price, total: r.quote.total.toString(), spotPrice: r.quote.spotBefore.toString(), spotPriceAfter: r.quote.spotAfter.toString(), feeBps: m.market.params.feeBps, quotedAt: at };
      const st = nextStatus(lease, 'Active', nowMs, [ok('Quoted', 'WithinLimit', msg), ok('Ready', 'Active', msg)], { reservation, preemptible: false, quote });
      const next = await write(lease, st);
      deps.recorder.normal(lease, 'Priced', msg);
      deps.onLending?.(name, 'priced');
      return { lease: next };
    });
  }

  /**
   * A pre-empted lease: resumes for the rest of its duration when GPUs are free again (priced if
   * the quote fits what is left of its budget, else lent), or, once its deadline and an hour after
   * the pre-emption have both passed, or its pool is going away, ends and settles for what it ran.
   */
  async function preemptedStep(lease: ComputeLease, nowMs: number): Promise<Step> {
    const pool = deps.pools.store.get(lease.spec.pool);
    const at = Date.parse(lease.status?.preemptedAt ?? '');
    const giveUpMs = Math.max(waitDeadlineMs(lease), (Number.isFinite(at) ? at : nowMs) + RESUME_WAIT_MS);
    const left = formatDuration(remainingSeconds(lease));
    const close = async (why: string): Promise<Step> => {
      const msg = `${why}: settling for the ${formatDuration(lease.status?.secondsRun ?? 0)} it ran (${left} not run, refunded)`;
      const st = nextStatus(lease, 'Ending', nowMs, [ok('Ready', 'Ending', msg)], { closeReason: 'Expired' });
      deps.recorder.normal(lease, 'Expired', msg);
      return { lease: await write(lease, st) };
    };
    if (!pool) return close(`GpuPool ${lease.spec.pool} is gone`);
    if (isDeleting(pool)) return close(`GpuPool ${lease.spec.pool} is being deleted`);
    if (remainingSeconds(lease) <= 0) return close('nothing of its duration is left');
    if (nowMs > giveUpMs) return close(`no GPUs to resume on before ${iso(giveUpMs)}`);
    const wait = async (_phase: 'Pending' | 'Waiting', reason: string, message: string, ms: number): Promise<Step> => {
      const st = nextStatus(lease, 'Preempted', nowMs, [notOk('Ready', 'Preempted', `pre-empted; ${left} of its duration left, waiting to resume (${reason}: ${message}) until ${iso(giveUpMs)}`)]);
      if (lease.status?.message !== st.message) await write(lease, st);
      return { wait: Math.max(1_000, Math.min(ms, giveUpMs - nowMs + 1_000)) };
    };
    return placeStep(lease, pool, nowMs, wait);
  }

  async function endStep(lease: ComputeLease, nowMs: number): Promise<Step> {
    if (deps.hooks?.onEnding && !(await deps.hooks.onEnding(lease))) return { wait: 2_000 };
    if (!deps.chain) return { wait: 60_000 };
    const plan = settlementPlan(lease, lease.status?.quote?.feeBps ?? 0);
    const leaseId = lease.status?.chain?.leaseId ?? '';
    try {
      const chain = deps.chain;
      const res = await withSlowNotice(
        chain.settleLease({ leaseId, providers: plan.providers, fee: plan.fee, refund: plan.refund, reason: lease.status?.closeReason ?? 'Completed' }),
        async () => {
          deps.onChainError?.('settle');
          lease = await write(lease, nextStatus(lease, 'Ending', nowMs, [notOk('ChainAvailable', 'ChainUnavailable', `cannot settle yet: ${chain.waitingFor().join('; ') || 'the chain does not answer'}; retrying, nothing is lost`)]));
        },
      );
      const st = nextStatus(lease, 'Settled', nowMs, [ok('Settled', 'SettledOnChain', `providers ${plan.providers.reduce((s, p) => s + p.amount, 0n)}, fee ${plan.fee}, refund ${plan.refund}`), ok('Ready', 'Settled', `settled on-chain (tx ${res.txHash ?? 'found settled'})`)], {
        chain: { ...lease.status?.chain, ...(res.txHash ? { settleTx: res.txHash } : {}) },
        gpuSecondsDelivered: plan.deliveredGpuSeconds,
        settlement: { providers: plan.providers.map((p) => ({ address: p.address, amount: p.amount.toString() })), fee: plan.fee.toString(), refund: plan.refund.toString() },
      });
      deps.recorder.normal(lease, 'Settled', `settled on-chain: providers ${plan.providers.reduce((s, p) => s + p.amount, 0n)}, fee ${plan.fee}, refund ${plan.refund} (tx ${res.txHash ?? 'found settled'})`);
      return { lease: await write(lease, st) };
    } catch (err) {
      const c = classifyChainError(err);
      deps.onChainError?.('settle');
      const st = nextStatus(lease, 'Ending', nowMs, [notOk('ChainAvailable', c.retry ? 'ChainUnavailable' : 'SettlementRejected', `cannot settle yet: ${c.message}; retrying`)]);
      if (lease.status?.message !== st.message) await write(lease, st);
      throw new Error(`settle ${keyOf(lease)}: ${c.message}`, { cause: err });
    }
  }

  /** Deleted before its end: close early (pro rata), or just let go when nothing was funded. */
  async function deletingStep(lease: ComputeLease, nowMs: number): Promise<Step> {
    const phase = lease.status?.phase;
    if (phase === 'Preempted') {
      const st = nextStatus(lease, 'Ending', nowMs, [ok('Ready', 'Cancelled', 'deleted while pre-empted: settling for the time it ran')], { closeReason: 'Cancelled' });
      return { lease: await write(lease, st) };
    }
    if (phase === 'Active' || phase === 'Funded') {
      const end = Math.min(new Date(lease.status?.endTime ?? iso(nowMs)).getTime(), nowMs);
      const start = lease.status?.startTime ?? iso(end);
      const st = nextStatus(lease, 'Ending', nowMs, [ok('Ready', 'Cancelled', 'deleted before its end: settling pro rata')], { startTime: start, endTime: iso(end), closeReason: 'Cancelled' });
      return { lease: await write(lease, st) };
    }
    if (phase === 'Reserved' && deps.chain) {
      // A crash may have left the escrow open without the status saying so: ask the chain.
      const onChain = await deps.chain.leaseState(lease.status?.chain?.leaseId ?? '');
      if (onChain.status === 'Open') {
        const st = nextStatus(lease, 'Funded', nowMs, [ok('Funded', 'EscrowFoundOpen', 'escrow found open on-chain')], { chain: { ...lease.status?.chain, locked: onChain.locked.toString() } });
        return { lease: await write(lease, st) };
      }
    }
    if (phase === 'Ending') return endStep(lease, nowMs);
    await removeFinalizer(deps.rest, COMPUTE_LEASES, lease, LEASE_FINALIZER);
    deps.ledger.record(keyOf(lease), lease.spec.pool, []);
    return { wait: undefined };
  }

  async function step(lease: ComputeLease): Promise<Step> {
    const nowMs = deps.clock.now();
    if (isDeleting(lease)) return hasFinalizer(lease, LEASE_FINALIZER) ? deletingStep(lease, nowMs) : { wait: undefined };
    if (!hasFinalizer(lease, LEASE_FINALIZER)) return { lease: await addFinalizer(deps.rest, COMPUTE_LEASES, lease, LEASE_FINALIZER) };
    switch (lease.status?.phase) {
      case undefined:
      case 'Pending':
      case 'Waiting':
      case 'Quoted':
        return pendingStep(lease, nowMs);
      case 'Reserved':
        return fundStep(lease, nowMs);
      case 'Funded':
        return activate(lease, nowMs);
      case 'Active':
        return activeStep(lease, nowMs);
      case 'Preempted':
        return preemptedStep(lease, nowMs);
      case 'Ending':
        return endStep(lease, nowMs);
      default:
        return { wait: undefined }; // Settled, Expired, Failed: final
    }
  }

  return async function reconcileLease(key: string, _ctx: ReconcileContext): Promise<ReconcileResult> {
    let lease = deps.leases.store.get(key);
    for (let i = 0; lease && i < 10; i++) {
      let s: Step;
      try {
        s = await step(lease);
      } catch (err) {
        if (apiCode(err) === 404 || apiCode((err as { cause?: unknown }).cause) === 404) return; // gone
        throw err;
      }
      if ('wait' in s) return s.wait === undefined ? undefined : { requeueAfterMs: s.wait };
      lease = s.lease;
    }
    return lease ? { requeueAfterMs: 1_000 } : undefined;
  };
}
