// The ComputeLease reconciler: Pending → (Waiting) → Reserved → Funded → Active → Ending → Settled,
// or Expired / Failed. Level-triggered and idempotent: every step re-reads the world (caches, the
// chain) and a crash between any two steps converges to the same end state — the chain client's
// open and settle find a lease already handled on-chain and send nothing, and settlement amounts
// are computed from the lease's persisted status only.
import type { V1Node, V1Secret } from '@kubernetes/client-node';
import { COMPUTE_LEASES } from '../api/resources.js';
import { parseDuration } from '../api/duration.js';
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
import { quote as quoteEngine } from '../market/index.js';
import type { MarketView } from '../pools/market-view.js';
import { leaseIdOf, type ChainClient } from '../settlement/index.js';
import { checkAuthorization } from './authorization.js';
import { nextStatus, notOk, ok } from './conditions.js';
import type { ReservationLedger } from './ledger.js';
import { place, type PlaceableNode } from './placement.js';
import { settlementPlan } from './settlement-plan.js';
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
};

type Step = { lease: ComputeLease } | { wait: number | undefined };

/** Longest an Active lease goes without a reconcile (its node losses come as events). */
const ACTIVE_RECHECK_MS = 10 * 60_000;

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
    deps.ledger.record(keyOf(lease), lease.spec.pool, heldReservations(status));
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

    // Placement decides under the pool's lock and takes the GPUs in the ledger before letting go
    // of it; the status write happens outside the lock, so placements in one pool do not queue
    // behind each other's API round trips. A failed write gives the GPUs back.
    const decide = await deps.ledger.withPool(lease.spec.pool, async (): Promise<() => Promise<Step>> => {
      const m = deps.market.stateAt(lease.spec.pool, Math.floor(nowMs / 1000));
      if (!m) return () => wait('Pending', 'PoolNotPriced', `GpuPool ${lease.spec.pool} has not been priced yet`, 2_000);
      const nodes = placeable(lease.spec.pool);
      const free = nodes.reduce((s, n) => s + n.free, 0);
      const reservation = place(nodes, lease.spec.gpus);
      if (!reservation) return () => wait('Waiting', 'InsufficientCapacity', `pool ${lease.spec.pool} has ${free} free GPUs with a payout address; ${lease.spec.gpus} asked`, 10_000);
      const seconds = parseDuration(lease.spec.duration) ?? 0;
      const r = quoteEngine({ ...m.state, free: Math.min(free, m.state.allocatable) }, m.market.params, lease.spec.gpus, seconds);
      if (!r.ok) return () => wait('Waiting', 'InsufficientCapacity', `pool ${lease.spec.pool} has ${r.free} free GPUs; ${lease.spec.gpus} asked`, 10_000);
      const limit = maxTotal(lease);
      if (r.quote.total > limit) {
        return () => wait('Waiting', 'PriceAboveLimit', `the price is ${r.quote.total} (${r.quote.perGpuHour} per GPU-hour), above the limit of ${limit}; waiting for it to fall`, 15_000);
      }
      const st = nextStatus(lease, 'Reserved', nowMs, [ok('Quoted', 'WithinLimit', `${r.quote.total} for ${lease.spec.gpus} GPUs × ${lease.spec.duration}`), ok('Reserved', 'Placed', reservation.map((x) => `${x.node}: ${x.gpus}`).join(', ')), notOk('Ready', 'Funding', 'opening the escrow on-chain')], {
        quote: {
          pricePerGpuHour: r.quote.perGpuHour.toString(),
          total: r.quote.total.toString(),
          spotPrice: r.quote.spotBefore.toString(),
          spotPriceAfter: r.quote.spotAfter.toString(),
          feeBps: m.market.params.feeBps,
          quotedAt: iso(nowMs),
        },
        reservation,
        chain: { leaseId: leaseIdOf({ namespace: lease.metadata?.namespace ?? '', name: lease.metadata?.name ?? '', uid: lease.metadata?.uid ?? '' }) },
      });
      deps.ledger.record(keyOf(lease), lease.spec.pool, reservation);
      return async () => {
        let next: ComputeLease;
        try {
          next = await write(lease, st);
        } catch (err) {
          deps.ledger.record(keyOf(lease), lease.spec.pool, []);
          throw err;
        }
        deps.recorder.normal(lease, 'Reserved', `${r.quote.total} locked price for ${lease.spec.gpus} GPUs on ${reservation.map((x) => `${x.node} (${x.gpus})`).join(', ')}`);
        return { lease: next };
      };
    });
    return decide();
  }

  async function fundStep(lease: ComputeLease, nowMs: number): Promise<Step> {
    if (!deps.chain) return { wait: 60_000 };
    const secret = await deps.readSecret(lease.metadata?.namespace ?? '', lease.spec.payer.authorizationSecretRef.name);
    const auth = secret && checkAuthorization(lease, secret, deps.chain.domain, Math.floor(nowMs / 1000));
    const amount = BigInt(lease.status?.quote?.total ?? '0');
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
          ok('Ready', 'Active', `GPUs are yours until ${iso(nowMs + seconds * 1000)}`),
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
    const lost = reservation.filter((r) => !r.lostAt && !(deps.nodes.store.get(r.node) && nodeReady(deps.nodes.store.get(r.node) as V1Node)));
    if (lost.length > 0 && nowMs < end) {
      return deps.ledger.withPool(lease.spec.pool, async () => {
        const lostSet = new Set(lost.map((r) => r.node));
        const marked: Reservation[] = reservation.map((r) => (lostSet.has(r.node) && !r.lostAt ? { ...r, lostAt: iso(nowMs) } : r));
        const need = lost.reduce((s, r) => s + r.gpus, 0);
        const candidates = placeable(lease.spec.pool).filter((n) => !lostSet.has(n.name));
        const extra = place(candidates, need) ?? [];
        const added = extra.map((r) => ({ ...r, addedAt: iso(nowMs) }));
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
    // Node losses arrive as node events (the controller watches the reserved nodes), so the only
    // timer an Active lease needs is its end; the cap is a safety net, not the way losses are seen.
    return { wait: Math.min(end - nowMs, ACTIVE_RECHECK_MS) };
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
