// Kubernetes conditions (metav1.Condition). `setCondition` works like cert-manager's SetCondition:
// lastTransitionTime changes only when the status changes, so rewriting the same condition every
// reconcile is a no-op and "status unchanged" can be detected. All functions are pure.
import { rfc3339 } from './clock.js';

export const CONDITION_STATUS = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof CONDITION_STATUS)[keyof typeof CONDITION_STATUS];

export type Condition = {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable. */
  reason: string;
  /** For humans. */
  message: string;
  /** metadata.generation the condition was computed from. */
  observedGeneration?: number;
  /** RFC 3339 (seconds). */
  lastTransitionTime: string;
};

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Returns a copy of `conditions` with `input` set: a new type is appended; an existing one is
 * replaced, keeping its lastTransitionTime when the status did not change. `nowMs` is the time of
 * a transition.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, nowMs: number): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const existing = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    ...(input.observedGeneration === undefined ? {} : { observedGeneration: input.observedGeneration }),
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : rfc3339(nowMs),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export const find = findCondition;

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

export function isFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'False';
}

/** True when the condition exists, is True and was computed from `generation` (not stale). */
export function isTrueFor(conditions: readonly Condition[] | undefined, type: string, generation: number | undefined): boolean {
  const c = findCondition(conditions, type);
  return c?.status === 'True' && c.observedGeneration === generation;
}
