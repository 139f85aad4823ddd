// Template tests over `helm template` output: which objects the chart makes and how they are
// labelled, the RBAC rules rule by rule, the restricted security context, what the values
// schema refuses, and that the chart agrees with the code it deploys (the operator's and the
// plugin's own flag parsers accept the rendered arguments; the scheduler configuration and the
// webhook configuration equal what scheduler-plugin/ generates).
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../operator/src/config.js';
import { LEASE_LABEL } from '../../operator/src/inventory/labels.js';
import { parsePluginConfig } from '../../scheduler-plugin/config.js';
import { pinfiSchedulerConfiguration } from '../../scheduler-plugin/scheduler-config.js';
import { desiredWebhookConfiguration } from '../../scheduler-plugin/webhook-config.js';
import { CHART_DIR, container, find, kinds, podSpec, refusal, render, rulesOf, runHelm, KUBE_VERSION, type Deployment, type K8sObject, type PolicyRule } from './helm.js';

const NS = 'pinfi-system';
const ESCROW = `0x${'e5'.repeat(20)}`;
const CHAIN = { rpcUrl: 'https://rpc.example.org/v1/key', chainId: 8453, escrowAddress: ESCROW, confirmations: 3, settlerKey: { secretName: 'pinfi-settler', key: 'private-key' } };

let defaults: K8sObject[];
let full: K8sObject[];
beforeAll(async () => {
  [defaults, full] = await Promise.all([
    render({}),
    render({ chain: CHAIN, operator: { authorizationSecrets: { namespaces: ['team-a', 'team-b'] } }, metrics: { serviceMonitor: { enabled: true } }, networkPolicy: { enabled: true } }),
  ]);
});

const secretData = (o: K8sObject, key: string): string => Buffer.from((o as K8sObject & { data: Record<string, string> }).data[key] ?? '', 'base64').toString('utf8');

describe('objects and labels', () => {
  test('the default install makes these objects', () => {
    expect(kinds(defaults)).toEqual(
      [
        'ClusterRole/pinfi-authorization-secret-reader',
        'ClusterRole/pinfi-lease-editor',
        'ClusterRole/pinfi-lease-viewer',
        'ClusterRole/pinfi-operator',
        'ClusterRole/pinfi-pool-viewer',
        'ClusterRole/pinfi-scheduler-plugin',
        'ClusterRoleBinding/pinfi-operator',
        'ClusterRoleBinding/pinfi-scheduler',
        'ClusterRoleBinding/pinfi-scheduler-plugin',
        'ClusterRoleBinding/pinfi-scheduler-volume',
        'ConfigMap/pinfi-dashboard',
        'ConfigMap/pinfi-scheduler',
        'CustomResourceDefinition/computeleases.pinfi.io',
        'CustomResourceDefinition/gpupools.pinfi.io',
        'Deployment/pinfi-operator',
        'Deployment/pinfi-scheduler',
        'Deployment/pinfi-scheduler-plugin',
        'MutatingWebhookConfiguration/pinfi-lease-pods',
        'PodDisruptionBudget/pinfi-operator',
        'PodDisruptionBudget/pinfi-scheduler',
        'PodDisruptionBudget/pinfi-scheduler-plugin',
        'Role/pinfi-operator-leader-election',
        'Role/pinfi-scheduler-leader-election',
        'RoleBinding/pinfi-operator-leader-election',
        'RoleBinding/pinfi-scheduler-authentication-reader',
        'RoleBinding/pinfi-scheduler-leader-election',
        'Secret/pinfi-webhook-tls',
        'Service/pinfi-operator',
        'Service/pinfi-scheduler-plugin',
        'ServiceAccount/pinfi-operator',
        'ServiceAccount/pinfi-scheduler',
        'ServiceAccount/pinfi-scheduler-plugin',
      ].sort(),
    );
  });

  test('every object carries the chart labels, and namespaced ones live in the release namespace', () => {
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'MutatingWebhookConfiguration']);
    for (const o of full) {
      expect({ o: `${o.kind}/${o.metadata.name}`, labels: o.metadata.labels }).toEqual({
        o: `${o.kind}/${o.metadata.name}`,
        labels: expect.objectContaining({
          'app.kubernetes.io/name': 'pinfi',
          'app.kubernetes.io/instance': 'pinfi',
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/part-of': 'pinfi',
          'helm.sh/chart': 'pinfi-0.1.0',
        }),
      });
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace).toBeUndefined();
      else if (!(o.kind === 'RoleBinding' && o.metadata.namespace !== NS)) expect(`${o.kind}/${o.metadata.name}@${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name}@${NS}`);
    }
  });

  test('commonLabels reach every object; a release named after the chart is not repeated', async () => {
    const objs = await render({ commonLabels: { team: 'ml-platform' } }, { release: 'gpu-market' });
    for (const o of objs) expect(o.metadata.labels?.team).toBe('ml-platform');
    expect(find(objs, 'Deployment', 'gpu-market-pinfi-operator')).toBeDefined();
    expect(find(await render({}, { release: 'pinfi-prod' }), 'Deployment', 'pinfi-prod-operator')).toBeDefined();
  });

  test.each(['operator', 'scheduler-plugin', 'scheduler'])('the %s Deployment selects its own pods, and its Service and PDB select the same', (component) => {
    const d = find(full, 'Deployment', `pinfi-${component}`) as Deployment;
    const sel = d.spec.selector.matchLabels;
    expect(sel).toEqual({ 'app.kubernetes.io/name': 'pinfi', 'app.kubernetes.io/instance': 'pinfi', 'app.kubernetes.io/component': component });
    expect(d.spec.template.metadata.labels).toEqual(expect.objectContaining(sel));
    expect((find(full, 'PodDisruptionBudget', `pinfi-${component}`) as K8sObject & { spec: { selector: { matchLabels: unknown }; maxUnavailable: number } }).spec).toEqual({ selector: { matchLabels: sel }, maxUnavailable: 1 });
    const svc = full.find((o) => o.kind === 'Service' && o.metadata.name === `pinfi-${component}`) as { spec: { selector: unknown } } | undefined;
    if (component !== 'scheduler') expect(svc?.spec.selector).toEqual(sel);
  });

  test('optional objects appear only when asked for', async () => {
    for (const kind of ['ServiceMonitor', 'NetworkPolicy']) expect(defaults.some((o) => o.kind === kind)).toBe(false);
    expect(full.filter((o) => o.kind === 'ServiceMonitor').map((o) => o.metadata.name).sort()).toEqual(['pinfi-operator', 'pinfi-scheduler-plugin']);
    expect(full.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(3);
    const bare = await render({ schedulerPlugin: { enabled: false }, scheduler: { enabled: false }, dashboards: { enabled: false }, rbac: { aggregateToDefaultRoles: false } });
    expect(bare.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['pinfi-operator']);
    expect(bare.some((o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'Secret' || o.kind === 'ConfigMap')).toBe(false);
    expect(bare.some((o) => /lease-(editor|viewer)/.test(o.metadata.name))).toBe(false);
  });
});

describe('pods', () => {
  const deployments = () => full.filter((o) => o.kind === 'Deployment');

  test('every pod meets the restricted Pod Security Standard, with a read-only root filesystem', () => {
    for (const d of deployments()) {
      const spec = podSpec(d);
      expect(spec.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } }));
      for (const c of spec.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    }
  });

  test('every container has probes, requests and a memory limit, and its own ServiceAccount', () => {
    const sas = new Set<string>();
    for (const d of deployments()) {
      const c = container(d);
      expect({ d: d.metadata.name, startup: !!c.startupProbe, live: !!c.livenessProbe, ready: !!c.readinessProbe }).toEqual({ d: d.metadata.name, startup: true, live: true, ready: true });
      expect(c.resources?.requests?.cpu).toBeDefined();
      expect(c.resources?.requests?.memory).toBeDefined();
      expect(c.resources?.limits?.memory).toBeDefined();
      sas.add(podSpec(d).serviceAccountName);
    }
    expect([...sas].sort()).toEqual(['pinfi-operator', 'pinfi-scheduler', 'pinfi-scheduler-plugin']);
  });

  test('the image is the chart appVersion by default, or a digest; kube-scheduler follows the cluster version', async () => {
    expect(container(find(defaults, 'Deployment', 'pinfi-operator')).image).toBe('ghcr.io/pinfi/pinfi:0.1.0');
    expect(container(find(defaults, 'Deployment', 'pinfi-scheduler')).image).toBe(`registry.k8s.io/kube-scheduler:${KUBE_VERSION}`);
    const pinned = await render({ image: { digest: `sha256:${'a'.repeat(64)}` }, scheduler: { image: { tag: 'v1.35.2' } } });
    expect(container(find(pinned, 'Deployment', 'pinfi-scheduler-plugin')).image).toBe(`ghcr.io/pinfi/pinfi@sha256:${'a'.repeat(64)}`);
    expect(container(find(pinned, 'Deployment', 'pinfi-scheduler')).image).toBe('registry.k8s.io/kube-scheduler:v1.35.2');
    const vendor = await render({}, { args: ['--kube-version', 'v1.30.5-gke.1014001'] }).catch((e: Error) => e);
    expect(vendor instanceof Error ? vendor.message : container(find(vendor, 'Deployment', 'pinfi-scheduler')).image).toBe('registry.k8s.io/kube-scheduler:v1.30.5');
  });
});

describe('the operator agrees with its own flag parser', () => {
  test('the rendered arguments parse into the configured chain, namespace and leader election', () => {
    const d = find(full, 'Deployment', 'pinfi-operator');
    const c = container(d);
    expect(c.args?.[0]).toBe('/app/dist/operator/src/main.js');
    const config = parseConfig(c.args?.slice(1) ?? [], { POD_NAME: 'pinfi-operator-0' });
    expect(config).toEqual(
      expect.objectContaining({ namespace: NS, httpPort: 8080, leaderElect: true, leaseName: 'pinfi-operator', logLevel: 'info', graceSeconds: 30, evictionTimeoutSeconds: 300, enforce: true }),
    );
    expect(config.chain).toEqual(
      expect.objectContaining({ rpcUrl: CHAIN.rpcUrl, chainId: 8453, escrowAddress: ESCROW, confirmations: 3, rpcRetryBudgetMs: 120_000, key: { file: '/var/run/secrets/pinfi/settler/private-key' } }),
    );
    // The key file is the Secret's key, mounted read-only; only that key is projected.
    const mount = c.volumeMounts?.find((m) => m.name === 'settler-key');
    const vol = podSpec(d).volumes?.find((v) => v.name === 'settler-key');
    expect(mount).toEqual({ name: 'settler-key', mountPath: '/var/run/secrets/pinfi/settler', readOnly: true });
    expect(vol?.secret).toEqual({ secretName: 'pinfi-settler', items: [{ key: 'private-key', path: 'private-key' }], defaultMode: 0o440 });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  test('without a chain there are no chain flags and no key volume; an RPC URL can come from a Secret', async () => {
    const none = container(find(defaults, 'Deployment', 'pinfi-operator'));
    expect(parseConfig(none.args?.slice(1) ?? [], {}).chain).toBeUndefined();
    expect(none.volumeMounts?.map((m) => m.name)).toEqual(['tmp']);
    const fromSecret = container(find(await render({ chain: { ...CHAIN, rpcUrl: '', rpcUrlSecret: { name: 'rpc', key: 'url' } } }), 'Deployment', 'pinfi-operator'));
    expect(fromSecret.args?.some((a) => a.startsWith('--rpc-url'))).toBe(false);
    expect(fromSecret.env).toContainEqual({ name: 'PINFI_RPC_URL', valueFrom: { secretKeyRef: { name: 'rpc', key: 'url' } } });
    expect(parseConfig(fromSecret.args?.slice(1) ?? [], { PINFI_RPC_URL: 'https://from.secret' }).chain?.rpcUrl).toBe('https://from.secret');
  });

  test.each([
    { values: {}, want: '--max-old-space-size=384 --max-semi-space-size=4' },
    { values: { maxHeapMiB: 0 }, want: '--max-semi-space-size=4' },
    { values: { semiSpaceMiB: 0 }, want: '--max-old-space-size=384' },
    { values: { maxHeapMiB: 200, semiSpaceMiB: 2 }, want: '--max-old-space-size=200 --max-semi-space-size=2' },
    { values: { maxHeapMiB: 0, semiSpaceMiB: 0 }, want: undefined },
  ])('the operator\'s V8 heap settings $values give NODE_OPTIONS $want', async ({ values, want }) => {
    const env = container(find(await render({ operator: values }), 'Deployment', 'pinfi-operator')).env ?? [];
    expect(env.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(want);
  });

  test('leader election off means one replica and --no-leader-elect', async () => {
    const c = container(find(await render({ operator: { replicas: 1, leaderElection: { enabled: false } } }), 'Deployment', 'pinfi-operator'));
    expect(parseConfig(c.args?.slice(1) ?? [], {}).leaderElect).toBe(false);
  });
});

describe('the scheduler plugin and its webhook', () => {
  test('the plugin arguments parse into a webhook served from the mounted chart certificate, behind the chart Service', () => {
    const d = find(full, 'Deployment', 'pinfi-scheduler-plugin');
    const c = container(d);
    expect(c.args?.[0]).toBe('/app/dist/scheduler-plugin/main.js');
    const config = parsePluginConfig(c.args?.slice(1) ?? [], {});
    const dir = c.volumeMounts?.find((m) => m.name === 'webhook-tls')?.mountPath;
    expect(config.webhook).toEqual(
      expect.objectContaining({
        port: 9443,
        endpoint: { service: { namespace: NS, name: 'pinfi-scheduler-plugin', port: 443 } },
        certificate: { files: { cert: `${dir}/tls.crt`, key: `${dir}/tls.key`, ca: `${dir}/ca.crt` } },
        manageConfiguration: false,
      }),
    );
    expect(podSpec(d).volumes?.find((v) => v.name === 'webhook-tls')?.secret?.secretName).toBe('pinfi-webhook-tls');
    // Service port 443 -> the container's webhook port; the extender port likewise.
    const svc = find(full, 'Service', 'pinfi-scheduler-plugin') as K8sObject & { spec: { ports: { name: string; port: number; targetPort: string }[] } };
    const cport = (n: string) => c.ports?.find((p) => p.name === n)?.containerPort;
    expect(svc.spec.ports.map((p) => [p.name, p.port, cport(p.targetPort)])).toEqual([
      ['http', 8888, config.port],
      ['webhook', 443, config.webhook?.port],
    ]);
  });

  test('the MutatingWebhookConfiguration is the one scheduler-plugin/webhook-config.ts would apply', () => {
    const secret = find(full, 'Secret', 'pinfi-webhook-tls');
    const want = desiredWebhookConfiguration({
      name: 'pinfi-lease-pods',
      endpoint: { service: { namespace: NS, name: 'pinfi-scheduler-plugin', port: 443 } },
      caBundlePem: secretData(secret, 'ca.crt'),
    }) as { webhooks: unknown[] };
    const got = find(full, 'MutatingWebhookConfiguration') as unknown as { webhooks: unknown[] };
    expect(got.webhooks).toEqual(want.webhooks);
    expect(JSON.stringify(got.webhooks)).toContain(LEASE_LABEL);
  });

  test('the chart-generated certificate is signed by the caBundle CA and covers every name of the Service', () => {
    const secret = find(full, 'Secret', 'pinfi-webhook-tls');
    expect((secret as { type?: string }).type).toBe('kubernetes.io/tls');
    const cert = new X509Certificate(secretData(secret, 'tls.crt'));
    const ca = new X509Certificate(secretData(secret, 'ca.crt'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    const names = `pinfi-scheduler-plugin,pinfi-scheduler-plugin.${NS},pinfi-scheduler-plugin.${NS}.svc,pinfi-scheduler-plugin.${NS}.svc.cluster.local`;
    expect(secret.metadata.annotations?.['pinfi.io/dns-names']).toBe(names);
    for (const n of names.split(',')) expect(cert.checkHost(n)).toBe(n);
    const notAfter = Date.parse(secret.metadata.annotations?.['pinfi.io/not-after'] ?? '');
    expect(Math.abs(Date.parse(cert.validTo) - notAfter)).toBeLessThan(60 * 60 * 1000);
    expect(notAfter - Date.now()).toBeGreaterThan(3649 * 86_400_000);
    // A new certificate restarts the plugin pods.
    const annotations = (find(full, 'Deployment', 'pinfi-scheduler-plugin') as Deployment).spec.template.metadata.annotations;
    expect(annotations?.['checksum/webhook-certificate']).toBe(createHash('sha256').update(secretData(secret, 'tls.crt')).digest('hex'));
  });

  test('with cert-manager the chart makes a CA issuer chain and lets cainjector fill caBundle', async () => {
    const objs = await render({ schedulerPlugin: { webhook: { certificate: { source: 'certManager' } } } });
    expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    expect(kinds(objs.filter((o) => o.apiVersion === 'cert-manager.io/v1'))).toEqual(['Certificate/pinfi-webhook', 'Certificate/pinfi-webhook-ca', 'Issuer/pinfi-selfsigned', 'Issuer/pinfi-webhook-ca']);
    const cert = find(objs, 'Certificate', 'pinfi-webhook') as K8sObject & { spec: { secretName: string; dnsNames: string[]; issuerRef: unknown } };
    expect(cert.spec.secretName).toBe('pinfi-webhook-tls');
    expect(cert.spec.dnsNames).toContain(`pinfi-scheduler-plugin.${NS}.svc`);
    expect(cert.spec.issuerRef).toEqual({ kind: 'Issuer', name: 'pinfi-webhook-ca' });
    const mwc = find(objs, 'MutatingWebhookConfiguration') as K8sObject & { webhooks: { clientConfig: { caBundle?: string } }[] };
    expect(mwc.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(`${NS}/pinfi-webhook`);
    expect(mwc.webhooks[0]?.clientConfig.caBundle).toBeUndefined();
    const own = await render({ schedulerPlugin: { webhook: { certificate: { source: 'certManager', certManager: { issuerRef: { kind: 'ClusterIssuer', name: 'corp-ca' } } } } } });
    expect(kinds(own.filter((o) => o.apiVersion === 'cert-manager.io/v1'))).toEqual(['Certificate/pinfi-webhook']);
  });

  test('with an existing Secret the chart uses its name and the given caBundle', async () => {
    const pem = secretData(find(full, 'Secret', 'pinfi-webhook-tls'), 'ca.crt');
    const objs = await render({ schedulerPlugin: { webhook: { certificate: { source: 'secret', secretName: 'my-tls', caBundle: pem } } } });
    expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    expect(podSpec(find(objs, 'Deployment', 'pinfi-scheduler-plugin')).volumes?.find((v) => v.name === 'webhook-tls')?.secret?.secretName).toBe('my-tls');
    const mwc = find(objs, 'MutatingWebhookConfiguration') as unknown as { webhooks: { clientConfig: { caBundle: string } }[] };
    expect(Buffer.from(mwc.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString()).toBe(pem);
  });

  test('namespaceSelector, failurePolicy and timeout are the admin\'s to set', async () => {
    const objs = await render({ schedulerPlugin: { webhook: { namespaceSelector: { matchLabels: { 'pinfi.io/tenant': 'true' } }, failurePolicy: 'Ignore', timeoutSeconds: 3 } } });
    const w = (find(objs, 'MutatingWebhookConfiguration') as unknown as { webhooks: Record<string, unknown>[] }).webhooks[0];
    expect(w).toEqual(expect.objectContaining({ namespaceSelector: { matchLabels: { 'pinfi.io/tenant': 'true' } }, failurePolicy: 'Ignore', timeoutSeconds: 3 }));
  });

  test('without the webhook the plugin serves only the extender', async () => {
    const objs = await render({ schedulerPlugin: { webhook: { enabled: false } } });
    expect(objs.some((o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'Secret')).toBe(false);
    expect(parsePluginConfig(container(find(objs, 'Deployment', 'pinfi-scheduler-plugin')).args?.slice(1) ?? [], {}).webhook).toBeUndefined();
  });
});

describe('the second kube-scheduler', () => {
  test('its configuration is what scheduler-plugin/scheduler-config.ts generates for a standalone scheduler', () => {
    const cm = find(full, 'ConfigMap', 'pinfi-scheduler') as K8sObject & { data: Record<string, string> };
    expect(parse(cm.data['config.yaml'] ?? '')).toEqual(
      pinfiSchedulerConfiguration({ urlPrefix: `http://pinfi-scheduler-plugin.${NS}.svc:8888`, standalone: { namespace: NS } }),
    );
  });

  test('it runs the upstream binary with that file, and restarts when it changes', async () => {
    const d = find(full, 'Deployment', 'pinfi-scheduler') as Deployment;
    const c = container(d);
    expect(c.command?.slice(0, 2)).toEqual(['kube-scheduler', '--config=/etc/kubernetes/pinfi-scheduler/config.yaml']);
    expect(c.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/kubernetes/pinfi-scheduler', readOnly: true });
    const other = (await render({ scheduler: { managedResources: ['nvidia.com/gpu', 'nvidia.com/mig-1g.10gb'] } })).find((o) => o.kind === 'Deployment' && o.metadata.name === 'pinfi-scheduler') as Deployment;
    expect(other.spec.template.metadata.annotations?.['checksum/config']).not.toBe(d.spec.template.metadata.annotations?.['checksum/config']);
  });
});

describe('RBAC', () => {
  const norm = (rules: PolicyRule[]) => rules.map((r) => ({ ...r, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [] }));

  test('the operator ClusterRole is exactly these rules', () => {
    expect(norm(rulesOf(find(full, 'ClusterRole', 'pinfi-operator')))).toEqual([
      { apiGroups: ['pinfi.io'], resources: ['gpupools', 'computeleases'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['pinfi.io'], resources: ['gpupools/status', 'computeleases/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: ['pinfi.io'], resources: ['gpupools/finalizers', 'computeleases/finalizers'], verbs: ['update'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
  });

  test('leader election may renew only its own Lease', () => {
    expect(rulesOf(find(full, 'Role', 'pinfi-operator-leader-election'))).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['pinfi-operator'], verbs: ['get', 'update'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
    expect(rulesOf(find(full, 'Role', 'pinfi-scheduler-leader-election'))).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['pinfi-scheduler'], verbs: ['get', 'update'] },
    ]);
  });

  test('the scheduler plugin only reads', () => {
    const rules = rulesOf(find(full, 'ClusterRole', 'pinfi-scheduler-plugin'));
    expect(rules).toEqual([
      { apiGroups: ['pinfi.io'], resources: ['computeleases', 'gpupools'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    ]);
  });

  test('Secrets: get only, and only in the admitted namespaces', async () => {
    expect(rulesOf(find(full, 'ClusterRole', 'pinfi-authorization-secret-reader'))).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    const bindings = (objs: K8sObject[]) =>
      objs
        .filter((o) => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && (o as K8sObject & { roleRef: { name: string } }).roleRef.name === 'pinfi-authorization-secret-reader')
        .map((o) => `${o.kind}@${o.metadata.namespace ?? '*'}`);
    expect(bindings(full)).toEqual(['RoleBinding@team-a', 'RoleBinding@team-b']);
    expect(bindings(defaults)).toEqual([]);
    expect(bindings(await render({ operator: { authorizationSecrets: { allNamespaces: true, namespaces: ['ignored'] } } }))).toEqual(['ClusterRoleBinding@*']);
    // No other role of the chart's own components mentions Secrets at all.
    for (const o of full.filter((x) => (x.kind === 'ClusterRole' || x.kind === 'Role') && x.metadata.name !== 'pinfi-authorization-secret-reader')) {
      expect({ role: o.metadata.name, secrets: rulesOf(o).some((r) => r.resources?.some((res) => res.startsWith('secrets'))) }).toEqual({ role: o.metadata.name, secrets: false });
    }
  });

  test('no role grants wildcards, pods/exec, RBAC writes or impersonation', () => {
    for (const o of full.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      for (const r of rulesOf(o)) {
        const where = `${o.metadata.name}: ${JSON.stringify(r)}`;
        expect([where, [...(r.verbs ?? []), ...(r.resources ?? []), ...(r.apiGroups ?? [])].includes('*')]).toEqual([where, false]);
        expect([where, r.resources?.some((x) => /^pods\/(exec|attach|portforward|proxy)$/.test(x) || /^nodes\/proxy$/.test(x))]).toEqual([where, false]);
        expect([where, r.apiGroups?.includes('rbac.authorization.k8s.io') || r.verbs.some((v) => ['escalate', 'bind', 'impersonate'].includes(v))]).toEqual([where, false]);
      }
    }
  });

  test('every binding names the chart ServiceAccounts in the release namespace; the scheduler gets the built-in scheduler roles', () => {
    const refs = full
      .filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
      .map((o) => {
        const b = o as K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] };
        expect(b.subjects.every((s) => s.kind === 'ServiceAccount' && s.namespace === NS)).toBe(true);
        return `${b.subjects.map((s) => s.name).join(',')} -> ${b.roleRef.kind}/${b.roleRef.name}${o.kind === 'RoleBinding' ? ` in ${o.metadata.namespace}` : ''}`;
      })
      .sort();
    expect(refs).toEqual([
      'pinfi-operator -> ClusterRole/pinfi-authorization-secret-reader in team-a',
      'pinfi-operator -> ClusterRole/pinfi-authorization-secret-reader in team-b',
      'pinfi-operator -> ClusterRole/pinfi-operator',
      `pinfi-operator -> Role/pinfi-operator-leader-election in ${NS}`,
      'pinfi-scheduler -> ClusterRole/system:kube-scheduler',
      'pinfi-scheduler -> ClusterRole/system:volume-scheduler',
      'pinfi-scheduler -> Role/extension-apiserver-authentication-reader in kube-system',
      `pinfi-scheduler -> Role/pinfi-scheduler-leader-election in ${NS}`,
      'pinfi-scheduler-plugin -> ClusterRole/pinfi-scheduler-plugin',
    ]);
  });

  test('namespace editors may apply leases but not write their status; viewers may read them', () => {
    const editor = find(full, 'ClusterRole', 'pinfi-lease-editor');
    expect(editor.metadata.labels).toEqual(expect.objectContaining({ 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }));
    expect(rulesOf(editor).flatMap((r) => r.resources)).toEqual(['computeleases']);
    expect(find(full, 'ClusterRole', 'pinfi-lease-viewer').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBe('true');
  });
});

describe('the values schema', () => {
  test.each([
    ['an unknown top-level key', { replicaCount: 2 }, "additional properties 'replicaCount' not allowed"],
    ['an unknown nested key', { operator: { leaderElection: { leaseDuration: '15s' } } }, "additional properties 'leaseDuration' not allowed"],
    ['a misspelt section', { schedulerplugin: {} }, "additional properties 'schedulerplugin' not allowed"],
    ['a string for a number', { operator: { replicas: 'two' } }, 'got string, want integer'],
    ['a number for a boolean', { crds: { keep: 1 } }, 'got number, want boolean'],
    ['an unknown log level', { operator: { logLevel: 'verbose' } }, 'logLevel'],
    ['an unknown failure policy', { schedulerPlugin: { webhook: { failurePolicy: 'Retry' } } }, 'failurePolicy'],
    ['an unknown certificate source', { schedulerPlugin: { webhook: { certificate: { source: 'vault' } } } }, 'source'],
    ['an escrow that is not an address', { chain: { escrowAddress: '0x1234' } }, 'escrowAddress'],
    ['an RPC URL without a scheme', { chain: { rpcUrl: 'rpc.example.org' } }, 'rpcUrl'],
    ['zero confirmations', { chain: { confirmations: 0 } }, 'confirmations'],
    ['a namespace that is not a DNS label', { operator: { authorizationSecrets: { namespaces: ['Team_A'] } } }, 'namespaces'],
    ['a port out of range', { schedulerPlugin: { port: 70000 } }, 'port'],
    ['a malformed resource quantity', { operator: { resources: { limits: { memory: 'lots' } } } }, 'memory'],
  ])('refuses %s', async (_what, values, message) => {
    expect(await refusal(values)).toContain(message);
  });

  test.each([
    ['a chain without an escrow', { chain: { rpcUrl: 'https://rpc.example.org', settlerKey: { secretName: 'k' } } }, 'chain.escrowAddress is required'],
    ['a chain without a settler key', { chain: { rpcUrl: 'https://rpc.example.org', escrowAddress: ESCROW } }, 'chain.settlerKey.secretName is required'],
    ['an RPC URL given twice', { chain: { ...CHAIN, rpcUrlSecret: { name: 'rpc' } } }, 'not both'],
    ['two active operators', { operator: { replicas: 2, leaderElection: { enabled: false } } }, 'needs operator.leaderElection.enabled'],
    ['an existing certificate Secret without its CA', { schedulerPlugin: { webhook: { certificate: { source: 'secret', secretName: 'tls' } } } }, 'needs certificate.secretName and certificate.caBundle'],
  ])('refuses %s with a message saying what to do', async (_what, values, message) => {
    expect(await refusal(values)).toContain(message);
  });

  test('every value in values.yaml is documented by a comment and described in the schema', () => {
    // Every key has a comment right above it. A comment starting with "# --" documents a value
    // whose content (e.g. a resources map) is data, so the keys inside it are not checked.
    type Schema = { properties?: Record<string, Schema>; description?: string };
    const lines = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8').split('\n');
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Schema;
    const problems: string[] = [];
    const stack: { indent: number; key: string; value: boolean }[] = [];
    lines.forEach((line, i) => {
      const m = /^(\s*)([A-Za-z][\w-]*):/.exec(line);
      if (!m) return;
      const indent = m[1]?.length ?? 0;
      while (stack.length > 0 && (stack[stack.length - 1]?.indent ?? 0) >= indent) stack.pop();
      if (stack.some((s) => s.value)) return;
      let j = i - 1;
      while (j >= 0 && (lines[j] ?? '').trimStart().startsWith('#')) j--;
      const comment = j + 1 < i ? (lines[j + 1] ?? '').trim() : ''; // the first line of the comment block above
      stack.push({ indent, key: m[2] ?? '', value: comment.startsWith('# --') });
      const path = stack.map((s) => s.key).join('.');
      let node: Schema | undefined = schema;
      for (const s of stack) node = node?.properties?.[s.key];
      if (!node?.description) problems.push(`${path}: no description in values.schema.json`);
      if (!comment) problems.push(`${path}: no comment above it (values.yaml line ${i + 1})`);
    });
    expect(problems).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  type Panel = { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; datasource: { uid: string } }[] };
  test('ships as a ConfigMap the Grafana sidecar loads, with the panels an admin looks for', () => {
    const cm = find(full, 'ConfigMap', 'pinfi-dashboard') as K8sObject & { data: Record<string, string> };
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(cm.metadata.annotations?.grafana_folder).toBe('PinFi');
    expect(Object.keys(cm.data)).toEqual(['pinfi.json']);
    const dash = JSON.parse(cm.data['pinfi.json'] ?? '') as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string }[] } };
    expect(dash.uid).toBe('pinfi-market');
    expect(dash.templating.list.find((v) => v.type === 'datasource')?.name).toBe('datasource');
    const panels = dash.panels.filter((p) => p.type !== 'row');
    for (const p of panels) for (const t of p.targets ?? []) expect(t.datasource.uid).toBe('${datasource}');
    const exprs = (title: string) => (panels.find((p) => p.title === title)?.targets ?? []).map((t) => t.expr).join(' ');
    expect(exprs('Spot price per GPU-hour')).toContain('pinfi_pool_spot_price');
    expect(exprs('Utilisation')).toContain('pinfi_pool_utilization_ratio');
    expect(exprs('Leases by state')).toContain('pinfi_leases');
    expect(exprs('Settlement failures')).toContain('pinfi_chain_errors_total');
    expect(exprs('Reconcile latency')).toContain('controller_runtime_reconcile_time_seconds_bucket');
  });

  test('label, value, folder and namespace follow the values', async () => {
    const cm = find(await render({ dashboards: { label: 'dash', labelValue: 'yes', folder: '', namespace: 'monitoring' } }), 'ConfigMap', 'pinfi-dashboard');
    expect(cm.metadata.labels?.dash).toBe('yes');
    expect(cm.metadata.annotations).toBeUndefined();
    expect(cm.metadata.namespace).toBe('monitoring');
  });
});

test('helm lint --strict passes', async () => {
  const r = await runHelm(['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION]);
  expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  expect(r.code).toBe(0);
});
