import { ApiException } from '@kubernetes/client-node';
import { FakeClock } from './fake-clock.js';
import { LeaderElector } from './leader.js';
import type { LeaderElectionRecord, LeaseLock } from './lease-lock.js';

/** One Lease in memory with compare-and-swap; each candidate's view can be cut off (a partition). */
class MemoryLease {
  record: LeaderElectionRecord | undefined;
  rv = 0;
  writes = 0;

  lockFor(): LeaseLock & { partitioned: boolean } {
    const lock = {
      description: 'memory',
      partitioned: false,
      get: async () => {
        await Promise.resolve();
        if (lock.partitioned) throw new Error('connection refused');
        return this.record ? { record: { ...this.record }, resourceVersion: String(this.rv) } : undefined;
      },
      create: async (r: LeaderElectionRecord) => {
        await Promise.resolve();
        if (lock.partitioned) throw new Error('connection refused');
        if (this.record) throw new ApiException(409, 'exists', { reason: 'AlreadyExists' }, {});
        this.record = { ...r };
        this.rv++;
        this.writes++;
      },
      update: async (r: LeaderElectionRecord, rv: string) => {
        await Promise.resolve();
        if (lock.partitioned) throw new Error('connection refused');
        if (rv !== String(this.rv)) throw new ApiException(409, 'conflict', { reason: 'Conflict' }, {});
        this.record = { ...r };
        this.rv++;
        this.writes++;
      },
    };
    return lock;
  }
}

function candidate(lease: MemoryLease, clock: FakeClock, identity: string) {
  const lock = lease.lockFor();
  const log: string[] = [];
  const elector = new LeaderElector({
    lock,
    identity,
    clock,
    random: () => 0,
    onStartedLeading: () => void log.push(`started@${clock.now() - T0}`),
    onStoppedLeading: () => void log.push(`stopped@${clock.now() - T0}`),
  });
  const abort = new AbortController();
  const done = elector.run(abort.signal);
  return { elector, lock, log, abort, done };
}

const T0 = Date.UTC(2026, 0, 1);

/** Advances in small steps, checking that at most one candidate leads at every step. */
async function run(clock: FakeClock, ms: number, electors: LeaderElector[]) {
  for (let t = 0; t < ms; t += 100) {
    await clock.advance(100);
    expect(electors.filter((e) => e.isLeader()).length).toBeLessThanOrEqual(1);
  }
}

describe('LeaderElector', () => {
  test('the first candidate creates the lease and leads; the second waits', async () => {
    const clock = new FakeClock(T0);
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await run(clock, 500, [a.elector]);
    const b = candidate(lease, clock, 'b');
    await run(clock, 30_000, [a.elector, b.elector]);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader()).toBe('a');
    expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(lease.writes).toBeGreaterThan(10); // renewed every 2 s
    a.abort.abort();
    b.abort.abort();
    await Promise.all([a.done, b.done]);
  });

  test('a graceful stop releases the lease and the successor takes over at once', async () => {
    const clock = new FakeClock(T0);
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await run(clock, 500, [a.elector]);
    const b = candidate(lease, clock, 'b');
    await run(clock, 5000, [a.elector, b.elector]);
    const stopAt = clock.now() - T0;
    a.abort.abort();
    await a.done;
    expect(a.log).toEqual(['started@0', `stopped@${stopAt}`]);
    expect(lease.record?.holderIdentity).toBe('');
    await run(clock, 5000, [a.elector, b.elector]);
    expect(b.elector.isLeader()).toBe(true);
    const took = Number(b.log[0]?.split('@')[1]) - stopAt;
    expect(took).toBeLessThanOrEqual(2 * 2400); // within about one retry period, not a lease duration
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    b.abort.abort();
    await b.done;
  });

  test('a leader that cannot renew stops within the renew deadline; the other waits out the lease', async () => {
    const clock = new FakeClock(T0);
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await run(clock, 500, [a.elector]);
    const b = candidate(lease, clock, 'b');
    await run(clock, 3000, [a.elector, b.elector]);
    const cutAt = clock.now() - T0;
    a.lock.partitioned = true; // a can no longer reach the API server
    await run(clock, 30_000, [a.elector, b.elector]);
    await a.done; // run() returned: the operator would exit
    const stoppedAt = Number(a.log[1]?.split('@')[1]);
    const startedB = Number(b.log[0]?.split('@')[1]);
    expect(stoppedAt - cutAt).toBeLessThanOrEqual(10_000 + 100);
    expect(startedB).toBeGreaterThan(stoppedAt); // never both
    expect(startedB - cutAt).toBeGreaterThanOrEqual(15_000 - 2000); // b waited a lease duration since the last renew it saw
    expect(b.elector.isLeader()).toBe(true);
    expect(lease.record?.holderIdentity).toBe('b');
    b.abort.abort();
    await b.done;
  });

  test('a graceful stop waits for the leader\'s work to end before releasing the lease', async () => {
    const clock = new FakeClock(T0);
    const lease = new MemoryLease();
    const order: string[] = [];
    let finishWork: () => void = () => undefined;
    const elector = new LeaderElector({
      lock: lease.lockFor(),
      identity: 'a',
      clock,
      random: () => 0,
      onStartedLeading: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => order.push('work aborted'));
          finishWork = () => (order.push('work done'), resolve());
        }),
      onStoppedLeading: () => void order.push(`stopped, holder=${lease.record?.holderIdentity}`),
    });
    const abort = new AbortController();
    const done = elector.run(abort.signal);
    await clock.advance(500);
    abort.abort();
    await clock.advance(100);
    expect(order).toEqual(['work aborted']);
    expect(lease.record?.holderIdentity).toBe('a'); // still held while the work drains
    finishWork();
    await done;
    expect(order).toEqual(['work aborted', 'work done', 'stopped, holder=a']);
    expect(lease.record?.holderIdentity).toBe('');
  });

  test('a leader that sees another holder stops at once', async () => {
    const clock = new FakeClock(T0);
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await run(clock, 500, [a.elector]);
    lease.record = { ...lease.record!, holderIdentity: 'intruder' };
    lease.rv++;
    await run(clock, 2500, [a.elector]);
    expect(a.elector.isLeader()).toBe(false);
    await a.done;
    expect(a.log).toHaveLength(2);
  });

  test('settings must satisfy leaseDuration > renewDeadline > retryPeriod', () => {
    const lock = new MemoryLease().lockFor();
    const base = { lock, identity: 'x', onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/leaseDuration/);
    expect(() => new LeaderElector({ ...base, retryPeriodMs: 10_000 })).toThrow(/retryPeriod/);
  });
});
