// Benchmark: the extender's filter over HTTP with the 1,213 OpenB node names, at a fixed offered
// load (default 1,000 requests/s, open loop), from a client in another process over keep-alive
// connections, as kube-scheduler calls it. Prints p50/p90/p99/max client-side latency per kind
// of pod (a lease pod: placed on its reservation; a pod without a lease: passed through), the
// server-side time from its histogram, the server process's CPU time per request (which, unlike
// the percentiles, does not depend on what else the machine is running), and as a baseline in
// the same run a do-nothing HTTP server that reads the same bodies and answers a fixed reply (the
// cost of HTTP and Node alone).
//   npx tsx bench/extender-latency.ts [--rate 1000] [--seconds 20]
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, request, Agent } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { startExtenderServer } from '../scheduler-plugin/extender-server.js';
import { lease, pod, staticView } from '../scheduler-plugin/testing/builders.js';
import { createRegistry } from '../operator/src/telemetry/metrics.js';
import { openbNodeSet } from '../test/env/gpu-nodes.js';
import { repoRoot } from '../test/env/paths.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const csv = join(repoRoot, '..', 'shared', 'data', 'alibaba-openb-2023', 'openb_node_list_gpu_node.csv');
const nodeNames = openbNodeSet(csv).map((n) => n.name);

/** As kube-scheduler sends it: the pod from its cache (managedFields stripped), Pending, with the webhook's changes. */
function schedulerPod(name: string, leaseName?: string): V1Pod {
  const p = pod(name, { lease: leaseName, gpus: 1, uid: `0d5c0a8e-3f0b-4c2e-9a51-${name.padStart(12, '0').slice(-12)}` });
  return {
    ...p,
    metadata: { ...p.metadata, resourceVersion: '48213', creationTimestamp: new Date(), generateName: 'train-', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'f7c1', controller: true, blockOwnerDeletion: true }] },
    spec: {
      ...p.spec!,
      schedulerName: 'pinfi',
      tolerations: [
        { key: 'pinfi.io/pool', operator: 'Equal', value: 'a100', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      securityContext: {},
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }], defaultMode: 420 } }],
    },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

/** The reserved nodes of lease-i in the extender's synthetic state (see serve). */
function reservedOf(i: number): string[] {
  let n = 0;
  for (let k = 0; k < i; k++) n += 2 + (k % 7);
  return nodeNames.slice(n, n + 2 + (i % 7));
}

// ---- server side (child process) ------------------------------------------------------------

async function serve(kind: 'extender' | 'baseline'): Promise<void> {
  let port: number;
  if (kind === 'baseline') {
    // Reads the body, answers a fixed small reply: HTTP + Node, no parsing, no decision.
    const reply = JSON.stringify({ NodeNames: [nodeNames[0]], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
    const server = createServer((req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json');
        res.end(reply);
      });
    });
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  } else {
    // 150 Active leases of 2-8 nodes each (900 reserved nodes), half of each reservation in use.
    const leases = [];
    const bound: V1Pod[] = [];
    let n = 0;
    for (let i = 0; i < 150; i++) {
      const size = 2 + (i % 7);
      const reservation = nodeNames.slice(n, n + size).map((node) => ({ node, gpus: 8 }));
      n += size;
      leases.push(lease(`lease-${i}`, { phase: 'Active', reservation, endTime: '2099-01-01T00:00:00Z' }));
      reservation.forEach((r, j) => bound.push(pod(`l${i}-p${j}`, { lease: `lease-${i}`, gpus: 4, node: r.node })));
    }
    const view = staticView(leases, bound, { now: Date.now() });
    const registry = createRegistry({ processMetrics: false });
    // Placements are recorded but never bound here: keep them from piling up.
    const placements = { place: () => undefined, unplace: () => undefined };
    const srv = await startExtenderServer({ host: '127.0.0.1', port: 0, view, placements, ready: () => true, registry });
    port = srv.port;
  }
  process.send?.({ port });
  process.on('message', (m: string) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send?.({ cpuMicros: u.user + u.system });
    }
  });
}

// ---- client side ------------------------------------------------------------------------------

type Sample = { kind: string; ms: number };

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function load(port: number, rate: number, seconds: number, bodies: { kind: string; body: Buffer }[]): Promise<{ samples: Sample[]; errors: number; achieved: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const samples: Sample[] = [];
  let errors = 0;
  let sent = 0;
  const total = rate * seconds;
  const started = performance.now();
  const inflight = new Set<Promise<void>>();
  const one = (b: { kind: string; body: Buffer }): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = request({ host: '127.0.0.1', port, path: '/filter', method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': b.body.length } }, (res) => {
        let len = 0;
        res.on('data', (c: Buffer) => (len += c.length));
        res.on('end', () => {
          if (res.statusCode !== 200 || len === 0) errors++;
          else samples.push({ kind: b.kind, ms: performance.now() - t0 });
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(b.body);
    });
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) {
      const p = one(bodies[sent % bodies.length] as { kind: string; body: Buffer });
      inflight.add(p);
      void p.then(() => inflight.delete(p));
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  const achieved = total / ((performance.now() - started) / 1000);
  agent.destroy();
  return { samples, errors, achieved };
}

function report(label: string, r: { samples: Sample[]; errors: number; achieved: number }): void {
  const kinds = [...new Set(r.samples.map((s) => s.kind))];
  console.log(`${label}: ${r.samples.length} answers at ${r.achieved.toFixed(0)} req/s offered, ${r.errors} errors`);
  for (const k of ['all', ...kinds]) {
    const ms = r.samples.filter((s) => k === 'all' || s.kind === k).map((s) => s.ms).sort((a, b) => a - b);
    const f = (q: number) => quantile(ms, q).toFixed(3);
    console.log(`  ${k.padEnd(12)} p50 ${f(0.5)} ms   p90 ${f(0.9)} ms   p99 ${f(0.99)} ms   max ${(ms[ms.length - 1] ?? NaN).toFixed(3)} ms`);
  }
}

/** Quantiles from a Prometheus histogram (upper bucket bounds; linear within a bucket). */
function histogramQuantiles(text: string, metric: string, verb: string): string {
  const buckets: { le: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${metric}_bucket\\{.*le="([^"]+)".*verb="${verb}".*\\} (\\d+)|^${metric}_bucket\\{.*verb="${verb}".*le="([^"]+)".*\\} (\\d+)`).exec(line);
    if (m) buckets.push({ le: Number(m[1] ?? m[3]) || Infinity, count: Number(m[2] ?? m[4]) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.count ?? 0;
  const q = (p: number): string => {
    const target = p * total;
    let prevLe = 0;
    let prevCount = 0;
    for (const b of buckets) {
      if (b.count >= target) {
        if (!Number.isFinite(b.le)) return `> ${(prevLe * 1000).toFixed(2)} ms`;
        const frac = b.count === prevCount ? 1 : (target - prevCount) / (b.count - prevCount);
        return `${((prevLe + frac * (b.le - prevLe)) * 1000).toFixed(3)} ms`;
      }
      prevLe = b.le;
      prevCount = b.count;
    }
    return '?';
  };
  return `p50 ~${q(0.5)}   p99 ~${q(0.99)} (${total} requests, from bucket bounds)`;
}

function cpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { cpuMicros?: number }) => {
      if (m.cpuMicros === undefined) return;
      child.off('message', on);
      resolve(m.cpuMicros);
    };
    child.on('message', on);
    child.send('cpu');
  });
}

function start(kind: 'extender' | 'baseline'): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const serveIdx = process.argv.indexOf('--serve');
  if (serveIdx > 0) return serve(process.argv[serveIdx + 1] as 'extender' | 'baseline');
  const rate = arg('--rate', 1000);
  const seconds = arg('--seconds', 20);
  const body = (p: V1Pod, names: readonly string[]) => Buffer.from(JSON.stringify({ Pod: p, Nodes: null, NodeNames: names }));
  const bodies = [
    ...Array.from({ length: 8 }, (_, i) => ({ kind: 'lease pod', body: body(schedulerPod(`p${i}`, `lease-${i * 17}`), nodeNames) })),
    ...Array.from({ length: 2 }, (_, i) => ({ kind: 'no lease', body: body(schedulerPod(`w${i}`), nodeNames) })),
  ];
  // What kube-scheduler sends for a lease pod pinned to its reservation (node affinity): its
  // reserved nodes only.
  const pinned = Array.from({ length: 10 }, (_, i) => ({ kind: 'pinned', body: body(schedulerPod(`q${i}`, `lease-${i * 13}`), reservedOf(i * 13)) }));
  console.log(`filter over HTTP: ${nodeNames.length} node names per request (${(bodies[0]?.body.length ?? 0) / 1024 | 0} KiB bodies), ${rate} req/s for ${seconds} s, 80% lease pods`);
  for (const kind of ['baseline', 'extender'] as const) {
    const { child, port } = await start(kind);
    try {
      await load(port, Math.min(rate, 500), 3, bodies); // warm-up (JIT, connections)
      const cpu0 = await cpuMicros(child);
      const r = await load(port, rate, seconds, bodies);
      const cpu1 = await cpuMicros(child);
      report(kind === 'baseline' ? 'baseline (HTTP only, fixed reply)' : 'extender /filter', r);
      console.log(`  server CPU   ${((cpu1 - cpu0) / r.samples.length).toFixed(0)} µs per request (user + system)`);
      if (kind === 'extender') {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        console.log(`  server-side  ${histogramQuantiles(text, 'pinfi_extender_request_duration_seconds', 'filter')}`);
        const c0 = await cpuMicros(child);
        const rp = await load(port, rate, Math.max(5, Math.floor(seconds / 2)), pinned);
        const c1 = await cpuMicros(child);
        report('extender /filter, lease pods pinned to their reservation (2-8 node names, as with node affinity)', rp);
        console.log(`  server CPU   ${((c1 - c0) / rp.samples.length).toFixed(0)} µs per request (user + system)`);
      }
    } finally {
      child.kill();
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
