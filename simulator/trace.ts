// Trace loading: a node list (→ providers and pools) and a task list (→ demand), from CSV text.
// Columns are found by name, never by position; the defaults are the Alibaba OpenB names.
import { findColumn, parseCsv, requireColumn } from './csv.js';

/** A GPU node: one provider in the auction, part of its model's pool otherwise. */
export type NodeSpec = { readonly name: string; readonly model: string; readonly gpus: number };

/**
 * A task of the trace. Sizes are in milli-GPUs (1000 = one whole GPU), so shared fractions of a
 * GPU (`gpu_milli` < 1000) are sold as such; `fractional: 'whole'` rounds them up to whole GPUs.
 */
export type TraceTask = {
  readonly id: string;
  /** seconds since the start of the trace */
  readonly arrival: number;
  /** milli-GPUs */
  readonly units: number;
  /** how long it runs once served, seconds (>= 1) */
  readonly seconds: number;
  /** acceptable GPU models; null = any */
  readonly models: readonly string[] | null;
};

export type NodeColumns = {
  /** column with the GPU model (default: model, gpu_model, gpu_type) */
  readonly model?: string;
  /** column with the GPU count of the row (default: gpu, gpus, num_gpu, gpu_count) */
  readonly gpus?: string;
  /** optional column: how many identical nodes the row stands for (default: count, nodes) */
  readonly count?: string;
};

export type TaskOptions = {
  /** 'shared' (default): fractions of a GPU are sold as milli-GPUs; 'whole': rounded up to GPUs */
  readonly fractional?: 'shared' | 'whole';
};

export type TaskList = {
  readonly tasks: readonly TraceTask[];
  /** whether arrivals came from the file; if not, `synthesise` (arrivals.ts) draws them */
  readonly hasArrivals: boolean;
  /** whether durations came from the file; if not, `synthesise` draws them */
  readonly hasDurations: boolean;
  /** rows skipped, by reason */
  readonly skipped: { readonly cpuOnly: number; readonly bad: number };
};

const names = (preferred: string | undefined, defaults: readonly string[]): readonly string[] =>
  preferred ? [preferred] : defaults;

function int(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

/** Nodes with at least one GPU; rows with 0 GPUs (CPU-only nodes) are left out. */
export function parseNodes(text: string, columns: NodeColumns = {}): NodeSpec[] {
  const t = parseCsv(text);
  const model = requireColumn(t, names(columns.model, ['model', 'gpu_model', 'gpu_type']), 'node list');
  const gpus = requireColumn(t, names(columns.gpus, ['gpu', 'gpus', 'num_gpu', 'gpu_count']), 'node list');
  const count = columns.count ? requireColumn(t, [columns.count], 'node list') : findColumn(t, ['count', 'nodes']);
  const name = findColumn(t, ['sn', 'name', 'node']);
  const out: NodeSpec[] = [];
  t.rows.forEach((row, i) => {
    const g = int(row[gpus]);
    const m = row[model]?.trim();
    if (!g || g <= 0 || !m) return;
    const copies = count >= 0 ? (int(row[count]) ?? 1) : 1;
    for (let c = 0; c < copies; c++) {
      const base = name >= 0 && row[name] ? row[name]! : `node-${i}`;
      out.push({ name: copies > 1 ? `${base}-${c}` : base, model: m, gpus: g });
    }
  });
  return out;
}

/**
 * Tasks that ask for GPUs. Duration is `deletion_time − scheduled_time` (a task never scheduled:
 * `deletion_time − creation_time`, the time it was wanted), or a `duration` column. A list without
 * arrival times (or durations) gets 0 there, for `synthesise` (arrivals.ts) to fill in.
 */
export function parseTasks(text: string, options: TaskOptions = {}): TaskList {
  const t = parseCsv(text);
  const numGpu = requireColumn(t, ['num_gpu', 'gpus', 'gpu'], 'task list');
  const milli = findColumn(t, ['gpu_milli']);
  const spec = findColumn(t, ['gpu_spec', 'models']);
  const created = findColumn(t, ['creation_time', 'arrival', 'submit_time']);
  const scheduled = findColumn(t, ['scheduled_time', 'start_time']);
  const deleted = findColumn(t, ['deletion_time', 'end_time']);
  const duration = findColumn(t, ['duration']);
  const name = findColumn(t, ['name', 'id']);
  const hasArrivals = created >= 0;
  const hasDurations = deleted >= 0 || duration >= 0;
  const tasks: TraceTask[] = [];
  let cpuOnly = 0;
  let bad = 0;
  t.rows.forEach((row, i) => {
    const n = int(row[numGpu]) ?? 0;
    const m = milli >= 0 ? (int(row[milli]) ?? 1000) : 1000;
    let units = n * Math.min(1000, Math.max(0, m));
    if (units <= 0) {
      cpuOnly++;
      return;
    }
    if (options.fractional === 'whole') units = Math.ceil(units / 1000) * 1000;
    const models = spec >= 0 && row[spec]?.trim() ? row[spec]!.split('|').map((s) => s.trim()).filter(Boolean) : null;
    const arrival = hasArrivals ? (int(row[created]) ?? NaN) : 0;
    let seconds = 0;
    if (hasDurations) {
      const end = deleted >= 0 ? int(row[deleted]) : undefined;
      const start = (scheduled >= 0 ? int(row[scheduled]) : undefined) ?? arrival;
      seconds = end !== undefined && hasArrivals ? end - start : (int(row[duration]) ?? NaN);
    }
    if (!Number.isFinite(arrival) || !Number.isFinite(seconds) || arrival < 0) {
      bad++;
      return;
    }
    if (hasDurations) seconds = Math.max(1, seconds);
    tasks.push({ id: name >= 0 && row[name] ? row[name]! : `task-${i}`, arrival, units, seconds, models });
  });
  if (hasArrivals) tasks.sort((a, b) => a.arrival - b.arrival);
  return { tasks, hasArrivals, hasDurations, skipped: { cpuOnly, bad } };
}
