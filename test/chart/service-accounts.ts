// Acting as the chart's ServiceAccounts from outside the cluster: a kubeconfig holding a token
// from the TokenRequest API (`kubectl create token`), so a process run with it has exactly the
// ServiceAccount's identity (user system:serviceaccount:NS:NAME, groups system:serviceaccounts,
// system:serviceaccounts:NS, system:authenticated) and therefore exactly its RBAC. And the
// ServiceAccount's effective rules, from a SelfSubjectRulesReview made with that token.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Cluster } from '../env/cluster.js';
import { kubectlRun } from '../env/cluster.js';

export type ServiceAccountIdentity = { readonly namespace: string; readonly name: string; readonly kubeconfig: string };

/** Writes `<dir>/<name>.kubeconfig` for the ServiceAccount, with a token valid for `hours`. */
export async function serviceAccountKubeconfig(cluster: Cluster, namespace: string, name: string, dir: string, hours = 2): Promise<ServiceAccountIdentity> {
  const token = (await cluster.kubectl(['create', 'token', name, '-n', namespace, `--duration=${hours}h`])).trim();
  const current = cluster.kubeConfig().getCurrentCluster();
  if (!current) throw new Error(`kubeconfig ${cluster.kubeconfig} has no current cluster`);
  const caData = current.caData ?? (current.caFile ? readFileSync(current.caFile).toString('base64') : undefined);
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'cluster', cluster: { server: current.server, ...(caData ? { 'certificate-authority-data': caData } : {}) } }],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: 'cluster', user: name, namespace } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return { namespace, name, kubeconfig: file };
}

export type ResourceRule = { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] };

/**
 * Everything the identity may do in `namespace` (its cluster-wide rules included), as
 * "verb group/resource[/name]" strings, one per verb, resource and name.
 */
export async function effectiveRules(kubectl: string, identity: ServiceAccountIdentity, namespace: string): Promise<string[]> {
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    spec: { namespace },
  };
  const out = JSON.parse(await kubectlRun(kubectl, identity.kubeconfig, ['create', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify(review))) as {
    status: { resourceRules: ResourceRule[]; incomplete: boolean; evaluationError?: string };
  };
  if (out.status.incomplete) throw new Error(`rules review for ${identity.name} in ${namespace} is incomplete: ${out.status.evaluationError ?? ''}`);
  const flat = new Set<string>();
  for (const r of out.status.resourceRules) {
    for (const verb of r.verbs)
      for (const group of r.apiGroups ?? [''])
        for (const res of r.resources ?? [])
          for (const n of r.resourceNames && r.resourceNames.length > 0 ? r.resourceNames : [''])
            flat.add(`${verb} ${group === '' ? 'core' : group}/${res}${n ? `/${n}` : ''}`);
  }
  return [...flat].sort();
}

/** What every authenticated identity may do (system:basic-user and friends): not the chart's doing. */
export const EVERYONE = [
  'create authorization.k8s.io/selfsubjectaccessreviews',
  'create authorization.k8s.io/selfsubjectrulesreviews',
  'create authentication.k8s.io/selfsubjectreviews',
];

/**
 * `kubectl auth can-i VERB RESOURCE [-n NS]` as the identity: true for "yes", false for "no".
 * RESOURCE is `resource[.group][/name][:subresource]`, e.g. `pods:eviction`,
 * `leases.coordination.k8s.io/pinfi-operator`, `computeleases.pinfi.io:status`.
 */
export function canI(kubectl: string, identity: ServiceAccountIdentity, verb: string, resource: string, namespace?: string): Promise<boolean> {
  const [what = '', sub] = resource.split(':');
  const args = [
    '--kubeconfig',
    identity.kubeconfig,
    'auth',
    'can-i',
    verb,
    what,
    ...(sub ? [`--subresource=${sub}`] : []),
    ...(namespace ? ['-n', namespace] : ['--all-namespaces']),
  ];
  return new Promise((resolve, reject) => {
    execFile(kubectl, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const answer = stdout.trim();
      if (answer === 'yes' && !err) resolve(true);
      else if (answer === 'no') resolve(false); // kubectl exits 1 with "no"
      else reject(new Error(`kubectl auth can-i ${verb} ${resource} as ${identity.name}: ${stderr.trim() || err?.message}`));
    });
  });
}
