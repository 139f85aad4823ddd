// Building the next status of a lease: phase, message and conditions with observedGeneration.
import type { ComputeLease, ComputeLeaseStatus, LeasePhase } from '../api/types.js';
import { setCondition, type ConditionStatus } from '../kube/conditions.js';

export type CondInput = { type: string; status: ConditionStatus; reason: string; message: string };

/** A copy of the lease's status moved to `phase` with the conditions set. */
export function nextStatus(
  lease: ComputeLease,
  phase: LeasePhase,
  nowMs: number,
  conds: readonly CondInput[],
  patch: Partial<ComputeLeaseStatus> = {},
): ComputeLeaseStatus {
  const gen = lease.metadata?.generation;
  let conditions = lease.status?.conditions;
  for (const c of conds) conditions = setCondition(conditions, gen === undefined ? c : { ...c, observedGeneration: gen }, nowMs);
  const message = conds.find((c) => c.status !== 'True')?.message ?? conds.at(-1)?.message ?? lease.status?.message;
  const out: ComputeLeaseStatus = { ...lease.status, ...patch, phase, conditions: conditions ?? [] };
  if (message !== undefined) out.message = message;
  if (gen !== undefined) out.observedGeneration = gen;
  return out;
}

export const ok = (type: string, reason: string, message: string): CondInput => ({ type, status: 'True', reason, message });
export const notOk = (type: string, reason: string, message: string): CondInput => ({ type, status: 'False', reason, message });
