import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComputeLease } from '../operator/src/api/types.js';
import { LEASE_GATE, SCHEDULER_NAME } from '../operator/src/enforcement/names.js';
import { NOW, lease, pod } from './testing/builders.js';
import { desiredWebhookConfiguration } from './webhook-config.js';
import { admitLeasePod, review, reviewHandler, type AdmissionLookups, type JsonPatchOp } from './webhook.js';
import { generateServingCertificate, servingCertificateUsable } from './x509.js';

const toleration = { key: 'pinfi.io/pool', operator: 'Equal', value: 'a100', effect: 'NoSchedule' };
const active = lease('train', { phase: 'Active', gpus: 4, reservation: [{ node: 'gpu-0', gpus: 4 }] });
const funded = lease('train', { phase: 'Funded', gpus: 4, reservation: [{ node: 'gpu-0', gpus: 4 }] });

function admit(p: unknown, l: ComputeLease | undefined, resource = 'nvidia.com/gpu') {
  return admitLeasePod(p, 'team-a', l, resource, NOW);
}

describe('admission of lease pods', () => {
  test('an Active lease: scheduler, toleration and the reserved nodes as node affinity; no gate', () => {
    expect(admit(pod('p', { lease: 'train', gpus: 2 }), active)).toEqual({
      allowed: true,
      patch: [
        { op: 'add', path: '/spec/schedulerName', value: SCHEDULER_NAME },
        { op: 'add', path: '/spec/tolerations', value: [toleration] },
        {
          op: 'add',
          path: '/spec/affinity',
          value: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-0'] }] }] } } },
        },
      ],
    });
  });

  test('a lease not Active yet: also the scheduling gate, with a warning', () => {
    const o = admit(pod('p', { lease: 'train', gpus: 2 }), funded);
    expect(o.allowed && o.patch).toContainEqual({ op: 'add', path: '/spec/schedulingGates', value: [{ name: LEASE_GATE }] });
    expect(o.allowed && o.warnings?.[0]).toMatch(/waits .* until the lease is Active/);
  });

  test('existing tolerations and gates are appended to; a second run changes nothing', () => {
    const p = pod('p', { lease: 'train', gpus: 1 });
    p.spec = { ...p.spec!, tolerations: [{ key: 'x', operator: 'Exists' }], schedulingGates: [{ name: 'other' }] };
    const first = admit(p, funded);
    expect(first.allowed && first.patch).toEqual([
      { op: 'add', path: '/spec/schedulerName', value: SCHEDULER_NAME },
      { op: 'add', path: '/spec/tolerations/-', value: toleration },
      { op: 'add', path: '/spec/schedulingGates/-', value: { name: LEASE_GATE } },
    ]);
    const applied = { ...p, spec: { ...p.spec!, schedulerName: SCHEDULER_NAME, tolerations: [...p.spec!.tolerations!, toleration], schedulingGates: [{ name: 'other' }, { name: LEASE_GATE }] } };
    const again = admit(applied, funded);
    expect(again.allowed && again.patch).toEqual([]);
  });

  test.each([
    ['a lease that does not exist', pod('p', { lease: 'train', gpus: 1 }), undefined, 'nvidia.com/gpu', /ComputeLease train does not exist in namespace team-a/],
    ['more GPUs than the lease holds', pod('p', { lease: 'train', gpus: 5 }), active, 'nvidia.com/gpu', /asks for 5 nvidia.com\/gpu but ComputeLease team-a\/train holds 4/],
    ['another kind of GPU', pod('p', { lease: 'train', gpus: 1 }), active, 'nvidia.com/mig-1g.10gb', /asks for nvidia.com\/gpu but ComputeLease team-a\/train holds nvidia.com\/mig-1g.10gb/],
    ['a lease that is over', pod('p', { lease: 'train', gpus: 1 }), lease('train', { phase: 'Settled', gpus: 4 }), 'nvidia.com/gpu', /over \(phase Settled\)/],
    ['a lease past its end', pod('p', { lease: 'train', gpus: 1 }), lease('train', { phase: 'Active', gpus: 4, endTime: '2026-03-01T11:59:00Z' }), 'nvidia.com/gpu', /ended at/],
    ['spec.nodeName set', pod('p', { lease: 'train', gpus: 1, node: 'gpu-3' }), active, 'nvidia.com/gpu', /remove spec.nodeName/],
  ])('refuses %s', (_what, p, l, resource, message) => {
    const o = admit(p, l, resource);
    expect(o.allowed).toBe(false);
    if (!o.allowed) expect(o.message).toMatch(message);
  });
});

const lookups = (leases: ComputeLease[]): AdmissionLookups => ({
  lease: async (ns, name) => leases.find((l) => l.metadata?.namespace === ns && l.metadata?.name === name),
  resourceOf: () => 'nvidia.com/gpu',
  now: () => NOW,
});

function reviewOf(p: unknown, operation = 'CREATE') {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'r-1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'team-a', operation, object: p } };
}

describe('AdmissionReview', () => {
  test('answers with a base64 JSONPatch', async () => {
    const p = pod('p', { lease: 'train', gpus: 1 });
    delete p.metadata!.namespace; // CREATE requests may carry it only in request.namespace
    const out = await review(reviewOf(p), lookups([active]));
    expect(out.ok).toBe(true);
    const resp = (out as { response: { response: { uid: string; allowed: boolean; patchType: string; patch: string } } }).response.response;
    expect(resp).toMatchObject({ uid: 'r-1', allowed: true, patchType: 'JSONPatch' });
    const patch = JSON.parse(Buffer.from(resp.patch, 'base64').toString()) as JsonPatchOp[];
    expect(patch.map((o) => o.path)).toEqual(['/spec/schedulerName', '/spec/tolerations', '/spec/affinity']);
  });

  test('refusals carry a Status; non-CREATE and unlabelled pods are allowed as they are', async () => {
    const no = await review(reviewOf(pod('p', { lease: 'nope', gpus: 1 })), lookups([active]));
    expect((no as { response: { response: unknown } }).response.response).toMatchObject({ allowed: false, status: { code: 403, reason: 'LeaseNotFound' } });
    const upd = await review(reviewOf(pod('p', { lease: 'nope' }), 'UPDATE'), lookups([]));
    expect((upd as { response: { response: unknown } }).response.response).toEqual({ uid: 'r-1', allowed: true });
    const plain = await review(reviewOf(pod('p', { gpus: 1 })), lookups([]));
    expect((plain as { response: { response: unknown } }).response.response).toEqual({ uid: 'r-1', allowed: true });
  });

  test('not an AdmissionReview: a message for a 400', async () => {
    expect(await review({ kind: 'Pod' }, lookups([]))).toEqual({ ok: false, message: 'kind must be AdmissionReview' });
    expect(await review(null, lookups([]))).toMatchObject({ ok: false });
  });
});

describe('serving certificate', () => {
  const cert = generateServingCertificate({ commonName: 'pinfi-scheduler-plugin', dnsNames: ['svc.ns.svc', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] });

  test('is signed by its CA and covers the names asked for', () => {
    const ca = new X509Certificate(cert.caCert);
    const leaf = new X509Certificate(cert.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:svc.ns.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(servingCertificateUsable(cert, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })).toBe(true);
    expect(servingCertificateUsable(cert, { dnsNames: ['elsewhere'] })).toBe(false);
    expect(servingCertificateUsable(cert, { dnsNames: ['localhost'], now: new Date(Date.now() + 340 * 86_400_000) })).toBe(false);
  });

  test('openssl verifies the chain (when the openssl binary is present)', () => {
    if (!existsSync('/usr/bin/openssl')) return;
    const dir = mkdtempSync(join(tmpdir(), 'pinfi-cert-'));
    writeFileSync(join(dir, 'ca.pem'), cert.caCert);
    writeFileSync(join(dir, 'leaf.pem'), cert.cert);
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]).toString();
    expect(out).toContain(': OK');
  });

  test('a TLS client trusting only the CA reaches the webhook over HTTPS', async () => {
    const server = createServer({ cert: cert.cert, key: cert.key }, reviewHandler({ lookups: lookups([active]) }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const body = JSON.stringify(reviewOf(pod('p', { lease: 'train', gpus: 1 })));
      const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/mutate-pods', method: 'POST', ca: cert.caCert, servername: 'localhost' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text).response.allowed).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

test('the webhook configuration is scoped to lease pods and fails closed only for them', () => {
  const c = desiredWebhookConfiguration({ name: 'pinfi-lease-pods', endpoint: { url: 'https://127.0.0.1:9443' }, caBundlePem: 'PEM' });
  const wh = (c.webhooks as Record<string, unknown>[])[0];
  expect(wh).toMatchObject({
    clientConfig: { url: 'https://127.0.0.1:9443/mutate-pods', caBundle: Buffer.from('PEM').toString('base64') },
    objectSelector: { matchExpressions: [{ key: 'pinfi.io/lease', operator: 'Exists' }] },
    failurePolicy: 'Fail',
    sideEffects: 'None',
    rules: [{ operations: ['CREATE'], resources: ['pods'] }],
  });
});
