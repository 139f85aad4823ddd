// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
//   - A candidate takes the lease when it does not exist, has no holder (released), or its record
//     has not changed for leaseDuration as measured on the candidate's own clock since it last saw
//     the record change (clock skew between machines does not matter).
//   - The leader renews every retryPeriod. If it cannot renew within renewDeadline of the last
//     successful renew, or it sees another holder, it stops leading at once and calls
//     onStoppedLeading (the operator then exits). renewDeadline < leaseDuration, so the old
//     leader has stopped before anyone else may take the lease: never two leaders.
//   - On a graceful stop the leader first stops its work (aborts the signal given to
//     onStartedLeading and awaits the promise it returned, then awaits onStoppedLeading), then
//     releases the lease (empty holder) so a successor takes over at once.
// Writes use optimistic concurrency (resourceVersion): two candidates cannot both win a round.
import { realClock, jitter, rfc3339Micro, sleepUnlessAborted, type Clock, type TimerHandle } from './clock.js';
import { apiCode } from './errors.js';
import type { LeaderElectionRecord, LeaseLock } from './lease-lock.js';
export { apiLeaseLock, type LeaderElectionRecord, type LeaseLock } from './lease-lock.js';
import { errorFields, silentLogger, type Logger } from '../telemetry/logger.js';

export type LeaderElectorOptions = {
  lock: LeaseLock;
  /** Unique per process, e.g. `${podName}_${randomUUID()}`. */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s; must be < leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Default 2 s; must be < renewDeadlineMs. */
  retryPeriodMs?: number;
  /**
   * Called on becoming leader; `signal` aborts when leadership ends. A returned promise should
   * settle when the work has stopped (Controller.start does): a graceful stop awaits it before
   * releasing the lease.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called when leadership ends (lost, or a graceful stop); awaited before the lease is released. */
  onStoppedLeading: () => void | Promise<void>;
  /** Called when the observed holder changes (including to this identity). */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
};

export class LeaderElector {
  private readonly lock: LeaseLock;
  private readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;

  private observed: LeaderElectionRecord | undefined;
  private observedRv = '';
  private observedAt = 0;
  private leading = false;
  private running = false;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.lock = opts.lock;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!opts.identity) throw new Error('leader election needs an identity');
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod > 0');
    }
    this.clock = opts.clock ?? realClock;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'leader-election', lease: opts.lock.description, identity: opts.identity });
    this.random = opts.random ?? Math.random;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen in the lease ('' if none). */
  leader(): string {
    return this.observed?.holderIdentity ?? '';
  }

  /**
   * Campaigns until elected, leads until leadership is lost or `signal` aborts, then returns.
   * On abort while leading: stops leading (onStoppedLeading) and releases the lease.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('leader elector already running');
    this.running = true;
    try {
      if (!(await this.acquire(signal))) return;
      const { lost, work } = await this.lead(signal);
      this.leading = false;
      // Graceful stop: the leader's work (the promise onStartedLeading returned, e.g. controllers
      // draining their in-flight reconciles) ends before the lease is released. When leadership
      // is lost, onStoppedLeading is called at once: the process should exit.
      if (!lost) await work;
      await this.callStopped();
      if (!lost) await this.release();
    } finally {
      this.leading = false;
      this.running = false;
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.logger.info('campaigning for leadership');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal, this.renewDeadlineMs)) return true;
      if (!(await sleepUnlessAborted(this.clock, jitter(this.retryPeriodMs, 1.2, this.random), signal))) break;
    }
    return false;
  }

  /** Leads until lost (`lost` true) or until `signal` aborts; `work` settles when the leader's work has ended. */
  private async lead(signal: AbortSignal): Promise<{ lost: boolean; work: Promise<void> }> {
    this.leading = true;
    const leadership = new AbortController();
    this.logger.info('became leader');
    let work: Promise<void>;
    try {
      work = Promise.resolve(this.opts.onStartedLeading(leadership.signal)).then(
        () => undefined,
        (err: unknown) => this.logger.error('onStartedLeading failed', { err: errorFields(err) }),
      );
    } catch (err) {
      this.logger.error('onStartedLeading failed', { err: errorFields(err) });
      work = Promise.resolve();
    }

    // The deadline timer ends leadership even while a renew request hangs.
    let deadline: TimerHandle | undefined;
    const arm = (): void => {
      if (deadline) this.clock.clearTimeout(deadline);
      deadline = this.clock.setTimeout(() => {
        this.logger.error('failed to renew the lease within the renew deadline, stopping leading', { renewDeadlineMs: this.renewDeadlineMs });
        this.leading = false;
        leadership.abort(new Error('leadership lost'));
      }, this.renewDeadlineMs);
    };
    arm();
    const stop = AbortSignal.any([signal, leadership.signal]);
    try {
      while (!stop.aborted) {
        if (!(await sleepUnlessAborted(this.clock, this.retryPeriodMs, stop))) break;
        let renewed = false;
        try {
          renewed = await this.tryAcquireOrRenew(stop, this.renewDeadlineMs);
        } catch (err) {
          this.logger.warn('renewing the lease failed', { err: errorFields(err) });
        }
        if (stop.aborted) break;
        if (renewed) arm();
        else if (this.observed && this.observed.holderIdentity !== this.identity) {
          this.logger.error('another candidate holds the lease, stopping leading', { holder: this.observed.holderIdentity });
          this.leading = false;
          leadership.abort(new Error('leadership lost'));
        }
      }
    } finally {
      if (deadline) this.clock.clearTimeout(deadline);
    }
    const lost = leadership.signal.aborted;
    this.leading = false;
    if (!lost) leadership.abort(new Error('stopping'));
    return { lost, work };
  }

  private async callStopped(): Promise<void> {
    try {
      await this.opts.onStoppedLeading();
    } catch (err) {
      this.logger.error('onStoppedLeading failed', { err: errorFields(err) });
    }
  }

  /** One round: create, take over or renew the lease. False when someone else holds it or a write conflicted. */
  private async tryAcquireOrRenew(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const req = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    const now = this.clock.now();
    const fresh = (transitions: number, acquireTime?: string): LeaderElectionRecord => ({
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: acquireTime ?? rfc3339Micro(now),
      renewTime: rfc3339Micro(now),
      leaseTransitions: transitions,
    });
    try {
      const current = await this.lock.get(req);
      if (!current) {
        const record = fresh(0);
        await this.lock.create(record, req);
        this.observe(record, '', now);
        return true;
      }
      this.observe(current.record, current.resourceVersion, this.clock.now());
      const holder = current.record.holderIdentity;
      const heldByUs = holder === this.identity;
      const validUntil = this.observedAt + current.record.leaseDurationSeconds * 1000;
      if (holder !== '' && !heldByUs && validUntil > this.clock.now()) return false;
      const record = heldByUs
        ? fresh(current.record.leaseTransitions, current.record.acquireTime)
        : fresh(current.record.leaseTransitions + 1);
      await this.lock.update(record, current.resourceVersion, req);
      this.observe(record, '', this.clock.now());
      if (!heldByUs) this.logger.info('acquired the lease', { previousHolder: holder || '(released)' });
      return true;
    } catch (err) {
      if (apiCode(err) === 409) return false; // another candidate wrote first
      if (signal.aborted) return false;
      this.logger.warn('lease request failed', { err: errorFields(err) });
      return false;
    }
  }

  private observe(record: LeaderElectionRecord, rv: string, at: number): void {
    const changed =
      !this.observed ||
      rv === '' ||
      rv !== this.observedRv ||
      this.observed.holderIdentity !== record.holderIdentity ||
      this.observed.renewTime !== record.renewTime;
    if (!changed) return;
    const holderChanged = this.observed?.holderIdentity !== record.holderIdentity;
    this.observed = record;
    this.observedRv = rv;
    this.observedAt = at;
    if (holderChanged && record.holderIdentity) this.opts.onNewLeader?.(record.holderIdentity);
  }

  /** Gives the lease up (empty holder) so a successor need not wait for it to expire. */
  private async release(): Promise<void> {
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const current = await this.lock.get(signal);
      if (!current || current.record.holderIdentity !== this.identity) return;
      const now = rfc3339Micro(this.clock.now());
      await this.lock.update(
        { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.record.leaseTransitions },
        current.resourceVersion,
        signal,
      );
      this.logger.info('released the lease');
    } catch (err) {
      this.logger.warn('could not release the lease; a successor waits for it to expire', { err: errorFields(err) });
    }
  }
}
