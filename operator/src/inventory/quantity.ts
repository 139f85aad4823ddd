// Counting extended resources. Device plugins advertise whole units ("8"); anything else on a GPU
// resource is garbage we refuse to sell rather than guess at.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** A non-negative integer count, or undefined for anything that is not one. */
export function parseCount(q: string | undefined): number | undefined {
  if (q === undefined || !/^(0|[1-9][0-9]{0,8})$/.test(q.trim())) return undefined;
  return Number(q.trim());
}

function containerUse(c: V1Container, resource: string): number {
  // Extended resources cannot be overcommitted: requests equal limits, and either may be set.
  const r = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
  return parseCount(r) ?? 0;
}

/** What a pod holds of `resource`: the larger of its containers' sum and its largest init container. */
export function podRequest(pod: V1Pod, resource: string): number {
  const main = (pod.spec?.containers ?? []).reduce((s, c) => s + containerUse(c, resource), 0);
  const init = (pod.spec?.initContainers ?? []).reduce((m, c) => Math.max(m, containerUse(c, resource)), 0);
  return Math.max(main, init);
}

/** Pods that hold resources on their node: bound and not finished. */
export function podHoldsResources(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}
