// The extender's HTTP shell in-process: the protocol as kube-scheduler speaks it (Go's field
// names, keep-alive), and bad input of every kind: a few thousand random bodies never crash the
// server and never get a 5xx.
import { request, Agent } from 'node:http';
import { Registry } from 'prom-client';
import { prng, type Prng } from '../operator/src/market/testing/prng.js';
import { startExtenderServer, type ExtenderServer } from './extender-server.js';
import { lease, pod, staticView } from './testing/builders.js';

const view = staticView([lease('train', { phase: 'Active', reservation: [{ node: 'gpu-0', gpus: 4 }, { node: 'gpu-1', gpus: 2 }] })]);
let ready = true;
let srv: ExtenderServer;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const MAX = 256 * 1024;

beforeAll(async () => {
  srv = await startExtenderServer({ host: '127.0.0.1', port: 0, view, placements: view.usage, ready: () => ready, registry: new Registry(), maxBodyBytes: MAX });
});
afterAll(async () => {
  agent.destroy();
  await srv.close();
});

type Reply = { status: number; text: string };

function send(path: string, body: string | Buffer, method = 'POST', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method, agent, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const args = (p: unknown, nodeNames: unknown) => JSON.stringify({ Pod: p, Nodes: null, NodeNames: nodeNames });

test('filter speaks the protocol: NodeNames subset out, reasons per node, Error empty', async () => {
  const r = await send('/filter', args(pod('p', { lease: 'train', gpus: 1, uid: 'u-proto' }), ['gpu-0', 'gpu-1', 'gpu-9']));
  expect(r.status).toBe(200);
  expect(JSON.parse(r.text)).toEqual({
    NodeNames: ['gpu-0'],
    FailedNodes: { 'gpu-1': 'lease team-a/train places this pod on gpu-0, which has the most reserved GPUs free' },
    FailedAndUnresolvableNodes: {},
    Error: '',
  });
  view.usage.unplace('u-proto');
  const plain = await send('/pinfi/filter', args(pod('w', { gpus: 1 }), ['gpu-0', 'cpu-0']));
  expect(JSON.parse(plain.text)).toMatchObject({ NodeNames: ['gpu-0', 'cpu-0'], Error: '' });
});

test('prioritize answers a HostPriorityList', async () => {
  const r = await send('/prioritize', args(pod('p', { lease: 'train', gpus: 1 }), ['gpu-0', 'gpu-1', 'x']));
  expect(r.status).toBe(200);
  expect(JSON.parse(r.text)).toEqual([
    { Host: 'gpu-0', Score: 10 },
    { Host: 'gpu-1', Score: 5 },
    { Host: 'x', Score: 0 },
  ]);
});

test.each([
  ['not JSON', '{"Pod":', /not valid JSON/],
  ['JSON but not an object', '[1,2]', /must be a JSON object/],
  ['whole nodes instead of names', JSON.stringify({ Pod: pod('p'), Nodes: { items: [] } }), /nodeCacheCapable: true/],
  ['no node names', JSON.stringify({ Pod: pod('p') }), /NodeNames is missing/],
  ['names not strings', JSON.stringify({ Pod: pod('p'), NodeNames: ['a', 1] }), /not a string/],
  ['no pod', JSON.stringify({ NodeNames: ['a'] }), /Pod is missing/],
  ['pod without namespace', JSON.stringify({ Pod: { metadata: { name: 'x' } }, NodeNames: ['a'] }), /namespace is missing/],
])('filter with %s: 200 with Error', async (_what, body, error) => {
  const r = await send('/filter', body);
  expect(r.status).toBe(200);
  const out = JSON.parse(r.text) as { Error: string; NodeNames: unknown };
  expect(out.Error).toMatch(error);
  expect(out.NodeNames).toBeNull();
});

test('prioritize with bad input: 400 (the scheduler ignores prioritize errors)', async () => {
  expect((await send('/prioritize', '{')).status).toBe(400);
  expect((await send('/prioritize', '{}')).status).toBe(400);
});

test('a body over the limit: 413 with Error, and the server stays up', async () => {
  const big = args(pod('p'), Array.from({ length: 20_000 }, (_, i) => `node-with-a-long-name-${i}`));
  const r = await send('/filter', big);
  expect(r.status).toBe(413);
  expect(JSON.parse(r.text).Error).toMatch(/exceeds the limit/);
  const ok = await send('/filter', args(pod('w'), ['a']));
  expect(ok.status).toBe(200);
});

test('until the caches have synced, filter answers with Error and /readyz is 503', async () => {
  ready = false;
  try {
    const r = await send('/filter', args(pod('w', { gpus: 1 }), ['a']));
    expect(JSON.parse(r.text).Error).toMatch(/not synced/);
    expect((await send('/readyz', '', 'GET')).status).toBe(503);
  } finally {
    ready = true;
  }
  expect((await send('/readyz', '', 'GET')).status).toBe(200);
});

test('unknown paths 404, wrong methods 405, metrics served', async () => {
  expect((await send('/bind', '{}')).status).toBe(404);
  expect((await send('/filter', '', 'GET')).status).toBe(405);
  const m = await send('/metrics', '', 'GET');
  expect(m.text).toContain('pinfi_extender_filter_total');
});

// ---- random bodies ----------------------------------------------------------------------------

function randomValue(r: Prng, depth = 0): unknown {
  switch (r.int(0, depth > 3 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return r.pick([0, -1, 1.5, 1e308, 4, 2 ** 53]);
    case 3:
      return r.pick(['', '1', '1000m', 'x', 'nvidia.com/gpu', '\u0000', '\ud800', 'é'.repeat(r.int(0, 50))]);
    case 4:
      return 'gpu-' + r.int(0, 5);
    case 5:
      return [];
    case 6:
      return Array.from({ length: r.int(0, 4) }, () => randomValue(r, depth + 1));
    default: {
      const keys = ['Pod', 'NodeNames', 'Nodes', 'metadata', 'spec', 'labels', 'pinfi.io/lease', 'namespace', 'uid', 'containers', 'initContainers', 'resources', 'limits', 'requests', 'nvidia.com/gpu', '__proto__', 'constructor'];
      const o: Record<string, unknown> = {};
      for (let i = r.int(0, 5); i > 0; i--) o[r.pick(keys)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** A plausible ExtenderArgs with parts replaced by random values. */
function mutatedArgs(r: Prng): unknown {
  const p = pod(`p${r.int(0, 9)}`, { lease: r.pick([undefined, 'train', 'nope', '']), gpus: r.int(0, 5), uid: `u${r.int(0, 50)}` }) as unknown as Record<string, unknown>;
  const body: Record<string, unknown> = { Pod: p, Nodes: null, NodeNames: ['gpu-0', 'gpu-1', 'gpu-2'] };
  const spec = p.spec as Record<string, unknown>;
  const container = (spec.containers as Record<string, unknown>[])[0] as Record<string, unknown>;
  const spots: (() => void)[] = [
    () => (body.Pod = randomValue(r)),
    () => (body.NodeNames = randomValue(r)),
    () => ((p.metadata as Record<string, unknown>).labels = randomValue(r)),
    () => ((p.metadata as Record<string, unknown>).namespace = randomValue(r)),
    () => (p.spec = randomValue(r)),
    () => (container.resources = randomValue(r)),
    () => (spec.initContainers = randomValue(r)),
  ];
  for (let i = r.int(1, 3); i > 0; i--) r.pick(spots)();
  return body;
}

function randomBody(r: Prng): string | Buffer {
  const kind = r.int(0, 5);
  if (kind === 0) return Buffer.from(Array.from({ length: r.int(0, 300) }, () => r.int(0, 255)));
  if (kind === 1) return JSON.stringify(randomValue(r));
  const text = JSON.stringify(mutatedArgs(r)) ?? 'null';
  if (kind === 2) return text.slice(0, r.int(0, text.length)); // truncated
  if (kind === 3) {
    const i = r.int(0, text.length);
    return text.slice(0, i) + r.pick(['"', '}', ']', ',', '\\', '\u0000', '{"a":']) + text.slice(i);
  }
  return text;
}

test('thousands of random bodies: always 200 (filter, valid JSON) or 4xx, never a crash', async () => {
  const r = prng(20260301);
  const statuses = new Map<number, number>();
  const N = 3000;
  for (let i = 0; i < N; i += 50) {
    const batch = Array.from({ length: 50 }, () => ({ path: r.pick(['/filter', '/prioritize']), body: randomBody(r) }));
    const replies = await Promise.all(batch.map((b) => send(b.path, b.body)));
    replies.forEach((rep, j) => {
      statuses.set(rep.status, (statuses.get(rep.status) ?? 0) + 1);
      expect(rep.status).toBeLessThan(500);
      const parsed = JSON.parse(rep.text) as Record<string, unknown>;
      if ((batch[j] as { path: string }).path === '/filter') {
        expect(rep.status).toBe(200);
        // Either an error, or a subset of the names sent.
        if (!parsed.Error) {
          const sent = (JSON.parse((batch[j] as { body: string }).body.toString()) as { NodeNames: string[] }).NodeNames;
          for (const n of parsed.NodeNames as string[]) expect(sent).toContain(n);
        }
      }
    });
  }
  expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(N);
  // The server still answers normally.
  const ok = await send('/filter', args(pod('w', { gpus: 1 }), ['a']));
  expect(JSON.parse(ok.text)).toMatchObject({ NodeNames: ['a'], Error: '' });
});
