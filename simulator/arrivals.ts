// The arrival and duration model for task lists without timestamps (or without durations):
// a Poisson process with an hour-of-day rate profile and log-normal durations, fitted to the
// OpenB trace (`fitArrivalModel` reproduces OPENB_FIT from the default files; a test checks it).
import type { Random } from './random.js';
import type { TaskList, TraceTask } from './trace.js';

export type ArrivalModel = {
  /** mean arrivals per hour */
  readonly ratePerHour: number;
  /** relative arrival rate in each hour of the day (mean 1) */
  readonly hourly: readonly number[];
  /** durations: e^N(logMean, logSigma) seconds */
  readonly durationLogMean: number;
  readonly durationLogSigma: number;
};

/** Fitted to the GPU tasks of openb_pod_list_default.csv (central 98% of arrivals for the rate). */
export const OPENB_FIT: ArrivalModel = {
  ratePerHour: 8.71,
  hourly: [
    1.42, 1.25, 1.02, 1.31, 1.27, 0.99, 0.87, 0.94, 0.73, 0.45, 0.7, 0.66, 0.49, 0.43, 0.41, 0.56, 0.93, 1.27, 1.69, 1.44,
    1.11, 1.27, 1.23, 1.56,
  ],
  durationLogMean: 6.31,
  durationLogSigma: 1.97,
};

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Fit the model to timed tasks. */
export function fitArrivalModel(tasks: readonly TraceTask[]): ArrivalModel {
  const times = tasks.map((t) => t.arrival).sort((a, b) => a - b);
  const n = times.length;
  const lo = times[Math.floor(0.01 * n)]!;
  const hi = times[Math.floor(0.99 * n)]!;
  const central = times.filter((t) => t >= lo && t <= hi);
  const counts = new Array<number>(24).fill(0);
  for (const t of central) counts[Math.floor(t / 3600) % 24]!++;
  const mean = central.length / 24;
  const logs = tasks.map((t) => Math.log(Math.max(1, t.seconds)));
  const mu = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mu) ** 2, 0) / logs.length);
  return {
    ratePerHour: round((0.98 * n) / ((hi - lo) / 3600), 2),
    hourly: counts.map((c) => round(c / mean, 2)),
    durationLogMean: round(mu, 2),
    durationLogSigma: round(sd, 2),
  };
}

/**
 * Fill in what the list lacks: arrivals by thinning a Poisson process whose rate follows the
 * hourly profile, in list order; durations drawn log-normal, at least one second.
 */
export function synthesise(list: TaskList, model: ArrivalModel, rng: Random): TraceTask[] {
  const peak = Math.max(...model.hourly);
  const peakRate = (model.ratePerHour * peak) / 3600; // per second
  let t = 0;
  return list.tasks.map((task) => {
    let arrival = task.arrival;
    if (!list.hasArrivals) {
      do t += rng.exponential(1 / peakRate);
      while (rng.next() * peak > model.hourly[Math.floor(t / 3600) % 24]!);
      arrival = Math.floor(t);
    }
    const seconds = list.hasDurations
      ? task.seconds
      : Math.max(1, Math.round(Math.exp(model.durationLogMean + model.durationLogSigma * rng.normal())));
    return { ...task, arrival, seconds };
  });
}
