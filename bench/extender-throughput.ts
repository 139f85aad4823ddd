// Benchmark: kube-scheduler's throughput placing lease pods on the 1,213 OpenB GPU nodes, with the
// PinFi extender and without it, in the same run. Each round queues N lease pods (1 GPU each,
// N/10 Active leases of 10 GPUs on two A100 nodes) under a scheduler name no scheduler serves yet, then
// starts a kube-scheduler of its own (client qps/burst raised, no leader election) whose only
// profile has that name, with the PinFi extender, with a do-nothing Node.js extender (parses the
// request, echoes the node names: the floor for any extender process on this machine), or with
// none, and times the bindings. Throughput is
// (N-1) / (last binding - first binding), so start-up and cache sync are left out. Rounds come
// in triples whose order rotates, so a machine whose load drifts favours no mode; the figures
// are the medians of each round's ratios to the plain run.
// The pods are what the admission webhook makes of a lease pod: schedulerName, the pool's
// toleration (pool nodes carry their pool taint) and the required node affinity to the lease's
// reserved nodes; `--no-affinity` leaves the affinity out, so kube-scheduler samples the pool's
// nodes (~500 of them) and sends them all to the extender: the cost of the protocol without it.
//   npx tsx bench/extender-throughput.ts [--pods 500] [--rounds 4] [--no-affinity]
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PatchStrategy, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { COMPUTE_LEASES } from '../operator/src/api/resources.js';
import { reservationRequirement } from '../operator/src/enforcement/affinity.js';
import { poolTaint, poolToleration } from '../operator/src/enforcement/names.js';
import { LEASE_LABEL } from '../operator/src/inventory/labels.js';
import { createKubeClients } from '../operator/src/kube/client.js';
import { InformerFactory } from '../operator/src/kube/informers.js';
import { RESOURCES, resourcePath } from '../operator/src/kube/resources.js';
import { pinfiExtender } from '../scheduler-plugin/scheduler-config.js';
import { createCluster } from '../test/env/cluster.js';
import { applyCrds } from '../test/env/environment.js';
import { gpuNode, openbNodeSet } from '../test/env/gpu-nodes.js';
import { createNodes, inParallel, waitNodesReady } from '../test/env/nodes-io.js';
import { repoRoot, runDir } from '../test/env/paths.js';
import { freePort } from '../test/env/ports.js';
import { startProcess, waitReady } from '../test/env/process.js';
import { startKubeScheduler } from '../test/env/scheduler-process.js';
import { leaseManifest } from '../test/scheduler/harness.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const PODS = arg('--pods', 500);
const ROUNDS = arg('--rounds', 4);
/** Leases of 10 GPUs (5 on each of two A100 nodes); as many as the pods need. */
const LEASES = Math.ceil(PODS / 10);
const AFFINITY = !process.argv.includes('--no-affinity');
const NS = 'bench';
const csv = join(repoRoot, '..', 'shared', 'data', 'alibaba-openb-2023', 'openb_node_list_gpu_node.csv');
const log = (l: string) => process.stderr.write(`${l}\n`);

/** The do-nothing extender: parse, echo NodeNames. Runs in a child process (`--serve-noop`). */
async function serveNoop(): Promise<void> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const args = JSON.parse(Buffer.concat(chunks).toString()) as { NodeNames?: string[] };
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ NodeNames: args.NodeNames ?? [], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' }));
    });
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  process.send?.({ port: (server.address() as { port: number }).port });
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve-noop')) return serveNoop();
  const noop = fork(fileURLToPath(import.meta.url), ['--serve-noop'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const noopPort = await new Promise<number>((resolve) => noop.once('message', (m: { port: number }) => resolve(m.port)));
  const cluster = await createCluster({ name: `pinfi-bench-sched-${process.pid}`, log });
  let extender: ReturnType<typeof startProcess> | undefined;
  try {
    await applyCrds(cluster);
    const kc = cluster.kubeConfig();
    const clients = createKubeClients(cluster.connection());
    const specs = openbNodeSet(csv);
    const pool = (model: string | undefined) => (model ?? '').toLowerCase();
    const nodes: V1Node[] = specs.map((s) => {
      const n = gpuNode(s);
      return { ...n, spec: { ...n.spec, taints: [poolTaint(pool(s.labels?.['pinfi.io/openb-model']))] } };
    });
    let t = Date.now();
    await createNodes(kc, nodes, 64);
    await waitNodesReady(kc, specs.map((s) => s.name), 600_000);
    log(`[bench] ${specs.length} OpenB nodes Ready in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    for (const m of new Set(specs.map((s) => s.labels?.['pinfi.io/openb-model']))) {
      await cluster.kubectl(['apply', '-f', '-'], stringify({
        apiVersion: 'pinfi.io/v1alpha1',
        kind: 'GpuPool',
        metadata: { name: pool(m) },
        spec: { nodeSelector: { matchLabels: { 'pinfi.io/openb-model': m } }, pricing: { token: `0x${'a'.repeat(40)}`, treasury: `0x${'b'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000' } },
      }));
    }
    await clients.rest.request({ method: 'POST', path: resourcePath(RESOURCES.namespaces), body: { metadata: { name: NS } } });
    for (;;) {
      try {
        await clients.rest.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    // Active leases on the A100 (G2) pool, each reserving 5 GPUs on two nodes.
    const a100 = specs.filter((s) => s.labels?.['pinfi.io/openb-model'] === 'G2').map((s) => s.name);
    if (LEASES * 2 > a100.length) throw new Error(`--pods ${PODS} needs ${LEASES * 2} A100 nodes; there are ${a100.length}`);
    const reserved = new Map<string, Set<string>>();
    const end = new Date(Date.now() + 6 * 3_600_000).toISOString();
    await inParallel(Array.from({ length: LEASES }, (_, i) => i), 16, async (i) => {
      const name = `lease-${i}`;
      const reservation = [a100[2 * i], a100[2 * i + 1]].map((node) => ({ node: node as string, gpus: 5 }));
      reserved.set(name, new Set(reservation.map((r) => r.node)));
      await clients.rest.request({ method: 'POST', path: resourcePath(COMPUTE_LEASES, { namespace: NS }), body: leaseManifest(NS, name, 'g2', 10) });
      await clients.rest.patch(resourcePath(COMPUTE_LEASES, { namespace: NS, name, subresource: 'status' }), { status: { phase: 'Active', reservation, endTime: end } }, PatchStrategy.MergePatch);
    });

    const extPort = await freePort();
    extender = startProcess({
      name: 'bench-extender',
      command: join(repoRoot, 'node_modules', '.bin', 'tsx'),
      args: [join(repoRoot, 'scheduler-plugin', 'main.ts'), '--kubeconfig', cluster.kubeconfig, '--host', '127.0.0.1', '--port', String(extPort), '--webhook-port', '0', '--log-level', 'warn'],
      logFile: join(runDir, 'logs', 'bench-extender.log'),
      env: { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
    });
    await waitReady(extender, 'caches synced', async () => (await fetch(`http://127.0.0.1:${extPort}/readyz`)).ok, 120_000);

    // Binding times, from one watch on the namespace.
    const bound = new Map<string, { at: number; node: string }>();
    const factory = new InformerFactory({ clients });
    const pods = factory.forResource<V1Pod>(RESOURCES.pods, { namespace: NS });
    const seen = (p: V1Pod) => {
      const node = p.spec?.nodeName;
      const key = p.metadata?.name ?? '';
      if (node && !bound.has(key)) bound.set(key, { at: performance.now(), node });
    };
    pods.addEventHandler({ add: seen, update: (_o, p) => seen(p) });
    factory.start();
    await factory.waitForSync();

    const results: { round: number; mode: string; podsPerSec: number; wallSec: number; outside: number }[] = [];
    const MODES = ['plain', 'extender', 'noop'] as const;
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...MODES.slice(round % 3), ...MODES.slice(0, round % 3)];
      for (const mode of round % 2 === 0 ? order : order.reverse()) {
        const scheduler = `bench-${mode}-${round}`;
        const names = Array.from({ length: PODS }, (_, i) => `${scheduler}-${i}`);
        const leaseOf = (i: number) => `lease-${i % LEASES}`;
        t = Date.now();
        await inParallel(names.map((n, i) => ({ n, i })), 64, async ({ n, i }) => {
          const nodesOf = [...(reserved.get(leaseOf(i)) ?? [])].sort();
          const pod: V1Pod = {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: n, namespace: NS, labels: { [LEASE_LABEL]: leaseOf(i), run: scheduler } },
            spec: {
              schedulerName: scheduler,
              tolerations: [poolToleration('g2')],
              ...(AFFINITY
                ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: nodesOf.map((node) => ({ matchFields: [reservationRequirement(node)] })) } } } }
                : {}),
              terminationGracePeriodSeconds: 0,
              containers: [{ name: 'main', image: 'registry.example/train:1', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
            },
          };
          await clients.rest.request({ method: 'POST', path: resourcePath(RESOURCES.pods, { namespace: NS }), body: pod, timeoutMs: 120_000 });
        });
        log(`[bench] ${mode} round ${round}: ${PODS} pods queued in ${((Date.now() - t) / 1000).toFixed(0)} s; starting kube-scheduler`);
        const started = performance.now();
        const proc = startKubeScheduler({
          binary: cluster.binaries.kubeScheduler,
          kubeconfig: cluster.kubeconfig,
          name: scheduler,
          profiles: [{ schedulerName: scheduler }],
          extenders: mode === 'plain' ? [] : [pinfiExtender({ urlPrefix: `http://127.0.0.1:${mode === 'extender' ? extPort : noopPort}` })],
          qps: 1000,
          burst: 2000,
        });
        const deadline = Date.now() + 15 * 60_000;
        while (names.some((n) => !bound.has(n))) {
          if (Date.now() > deadline) throw new Error(`${scheduler}: ${names.filter((n) => !bound.has(n)).length} pods unbound after 15 min; see ${proc.logFile}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        await proc.stop();
        const times = names.map((n) => (bound.get(n) as { at: number }).at).sort((a, b) => a - b);
        const first = times[0] as number;
        const last = times[times.length - 1] as number;
        const podsPerSec = (PODS - 1) / ((last - first) / 1000);
        const outside = names.filter((n, i) => !reserved.get(leaseOf(i))?.has(bound.get(n)?.node ?? '')).length;
        results.push({ round, mode, podsPerSec, wallSec: (last - started) / 1000, outside });
        log(`[bench] ${mode} round ${round}: ${podsPerSec.toFixed(1)} pods/s (first bind ${((first - started) / 1000).toFixed(1)} s after start); ${outside} pods outside their lease's reservation`);
        for (let attempt = 1; ; attempt++) {
          try {
            await clients.rest.request({ method: 'DELETE', path: resourcePath(RESOURCES.pods, { namespace: NS }), query: { labelSelector: `run=${scheduler}`, gracePeriodSeconds: 0 }, timeoutMs: 600_000 });
            break;
          } catch (e) {
            if (attempt >= 5) throw e;
            log(`[bench] deleting pods failed (${(e as Error).message}), retrying`);
            await new Promise((r) => setTimeout(r, 2_000));
          }
        }
        while (pods.store.list().some((p) => p.metadata?.labels?.run === scheduler)) await new Promise((r) => setTimeout(r, 200));
      }
    }
    await factory.stop();

    const mean = (m: string) => {
      const r = results.filter((x) => x.mode === m);
      return r.reduce((s, x) => s + x.podsPerSec, 0) / r.length;
    };
    const ratios = (m: string) =>
      Array.from({ length: ROUNDS }, (_, round) => {
        const get = (x: string) => results.find((r) => r.round === round && r.mode === x)?.podsPerSec ?? NaN;
        return get(m) / get('plain');
      }).sort((a, b) => a - b);
    const median = (xs: number[]) => (xs.length % 2 ? (xs[(xs.length - 1) / 2] as number) : ((xs[xs.length / 2 - 1] as number) + (xs[xs.length / 2] as number)) / 2);
    console.log(
      `kube-scheduler v1.36.3 on ${specs.length} OpenB GPU nodes (${a100.length} A100 nodes in the lease pods' pool), ${PODS} queued lease pods per round, ` +
        `client qps 1000 / burst 2000, pods ${AFFINITY ? 'with' : 'WITHOUT'} the reservation's node affinity`,
    );
    for (const r of results) console.log(`  round ${r.round} ${r.mode.padEnd(9)} ${r.podsPerSec.toFixed(1).padStart(6)} pods/s   (all bound ${r.wallSec.toFixed(1)} s after the scheduler started; ${r.outside} pods outside their reservation)`);
    for (const m of ['extender', 'noop']) {
      const rs = ratios(m);
      console.log(`  ${m === 'extender' ? 'PinFi extender' : 'do-nothing extender'} / no extender, per round: ${rs.map((r) => r.toFixed(2)).join(', ')}; median ${median(rs).toFixed(3)}${m === 'extender' ? ' (goal >= 0.90)' : ''}`);
    }
    console.log(`  means: no extender ${mean('plain').toFixed(1)} pods/s, PinFi extender ${mean('extender').toFixed(1)} pods/s, do-nothing extender ${mean('noop').toFixed(1)} pods/s`);
  } finally {
    noop.kill();
    await extender?.stop();
    await cluster.delete();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
