// Benchmark: N ComputeLeases applied against the real control plane and anvil with the OpenB node
// set (1,213 GPU nodes, 7 pools). Prints leases per second until every lease is Active or
// refused, API-server writes per lease (PATCH/PUT on computeleases from kube-apiserver's own
// metrics), operator RSS, and gas per open. The baseline in the same run: the API server's
// create rate for the same N objects (what the client alone achieves).
// Also: CPU seconds each component used while the operator worked (where the machine's two cores went).
// Progress is read from the operator's own pinfi_leases gauge (a LIST of 10,000 leases every poll would load the
// API server the benchmark measures); the end state is checked once with a LIST.
// Usage: npx tsx bench/leases-scale.ts [--leases 10000] [--concurrency 32] [--workers 64] [--heap-mb 0] [--node-options '--cpu-prof'] [--compiled] [--block-time 0] [--heap-snapshot DIR]
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { stringify } from 'yaml';
import { ANVIL_KEYS, startAnvil } from '../test/env/anvil.js';
import { createCluster } from '../test/env/cluster.js';
import { applyCrds } from '../test/env/environment.js';
import { OPENB_MODELS, openbNodeSet, type OpenbModel } from '../test/env/gpu-nodes.js';
import { authorizationSecret, deployChainMarket, fundPayer } from '../test/env/market-fixture.js';
import { createNodes, inParallel, waitNodesReady } from '../test/env/nodes-io.js';
import { startOperatorProcess } from '../test/env/operator-process.js';
import { repoRoot } from '../test/env/paths.js';
import { LeaseEscrow__factory } from '../operator/src/settlement/generated/index.js';

const arg = (name: string, d: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : d);
const N = arg('--leases', 10_000);
const CONC = arg('--concurrency', 32);
const WORKERS = arg('--workers', 64);
// The operator's V8 heap limit in MiB (0: Node's default, which lets garbage pile up to GBs before a full GC).
const HEAP_MB = arg('--heap-mb', 0);
// Extra Node options for the operator process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
// Run the compiled operator (dist/, built first) with plain node, as the container image does.
const COMPILED = process.argv.includes('--compiled');
// Seconds between anvil's blocks; 0 mines every transaction on arrival in its own block
// (automine), which makes the node's per-transaction work the ceiling, unlike a real chain.
const BLOCK_TIME = arg('--block-time', 0);
// Write a V8 heap snapshot of the operator into DIR when every lease is done (for memory work).
const SNAPSHOT_DIR = process.argv.includes('--heap-snapshot') ? process.argv[process.argv.indexOf('--heap-snapshot') + 1] : undefined;
const NODE_OPTS = [
  HEAP_MB > 0 ? `--max-old-space-size=${HEAP_MB}` : '',
  SNAPSHOT_DIR ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${SNAPSHOT_DIR}` : '',
  process.argv.includes('--node-options') ? process.argv[process.argv.indexOf('--node-options') + 1] ?? '' : '',
].join(' ').trim();
const csv = join(repoRoot, '..', 'shared', 'data', 'alibaba-openb-2023', 'openb_node_list_gpu_node.csv');

async function apiWrites(kubectl: (a: string[]) => Promise<string>): Promise<number> {
  const text = await kubectl(['get', '--raw', '/metrics']);
  return text
    .split('\n')
    .filter((l) => l.startsWith('apiserver_request_total{') && l.includes('resource="computeleases"') && /verb="(PATCH|PUT|APPLY)"/.test(l))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

/** CPU seconds (user + system) used so far by every process whose command name is one of `names`. */
function cpuSeconds(names: readonly string[]): Map<string, number> {
  const tick = 100; // USER_HZ on Linux
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const name = cmdline.includes('operator/src/main') ? 'operator' : names.find((n) => comm.startsWith(n.slice(0, 15)));
      if (!name) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / tick);
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}
const COMPONENTS = ['kube-apiserver', 'etcd', 'kwok-controller', 'kube-controller-manager', 'kube-scheduler', 'anvil'];

/** The process's resident memory by mapping (smaps): V8's heap, other anonymous memory (malloc), the node binary, other files. */
function residentByMapping(pid: number): string {
  const out = new Map<string, number>();
  let current = 'anonymous (V8 heap, malloc, thread stacks)';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1] ?? '';
      current = path === '' ? 'anonymous (V8 heap, malloc, thread stacks)' : path.startsWith('[') ? path : path.endsWith('/node') ? 'node binary' : 'other files';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out.set(current, (out.get(current) ?? 0) + Number(rss[1]));
  }
  return [...out].sort((a, b) => b[1] - a[1]).map(([k, kb]) => `${k} ${(kb / 1024).toFixed(0)}`).join(', ');
}

/** Leases by phase, as the operator's pinfi_leases gauge counts them from its cache. */
async function phasesFromOperator(url: string): Promise<Map<string, number>> {
  const by = new Map<string, number>();
  for (const l of (await (await fetch(`${url}/metrics`)).text()).split('\n')) {
    const m = /^pinfi_leases\{[^}]*phase="([^"]+)"[^}]*\} (\d+)/.exec(l);
    if (m) by.set(m[1]!, (by.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return by;
}

async function main(): Promise<void> {
  if (COMPILED) {
    console.error('building dist/ (tsc -p tsconfig.build.json)…');
    execFileSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const cluster = await createCluster({ name: `pinfi-bench-leases-${process.pid}`, log: (l) => console.error(l) });
  const anvil = await startAnvil({ extraArgs: ['--gas-limit', '300000000', ...(BLOCK_TIME > 0 ? ['--block-time', String(BLOCK_TIME)] : [])] });
  try {
    await applyCrds(cluster);
    const kc = cluster.kubeConfig();
    const provider = new Wallet(ANVIL_KEYS[3]).address;
    const nodes = openbNodeSet(csv).map((n) => ({ ...n, labels: { ...n.labels, 'pinfi.io/payout-address': provider } }));
    await createNodes(kc, nodes, 64);
    await waitNodesReady(kc, nodes.map((n) => n.name), 600_000);
    const chain = await deployChainMarket(anvil.rpcUrl, ANVIL_KEYS[1]);
    const payerKey = ANVIL_KEYS[2];
    const payer = new Wallet(payerKey).address;
    await fundPayer(chain, payerKey, 10n ** 15n);
    const models = Object.keys(OPENB_MODELS) as OpenbModel[];
    for (const m of models) {
      await cluster.kubectl(['apply', '-f', '-'], stringify({
        apiVersion: 'pinfi.io/v1alpha1',
        kind: 'GpuPool',
        metadata: { name: m.toLowerCase() },
        spec: {
          nodeSelector: { matchLabels: { 'pinfi.io/openb-model': m } },
          pricing: { token: chain.token, treasury: `0x${'b'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000' },
          leases: { maxGpusPerLease: 8 },
        },
      }));
    }
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: 'bench' } } });
    // Demand spread over the pools by their GPU counts (G2 and T4 dominate, as in the trace).
    const weights = models.map((m) => nodes.filter((n) => (n.labels as Record<string, string>)['pinfi.io/openb-model'] === m).reduce((s, n) => s + n.gpus, 0));
    const total = weights.reduce((a, b) => a + b, 0);
    const poolOf = (i: number) => {
      let x = (i * 7919) % total;
      for (const [j, w] of weights.entries()) {
        if (x < w) return (models[j] as string).toLowerCase();
        x -= w;
      }
      return 'g2';
    };
    const t0 = Date.now();
    await inParallel([...Array(N).keys()], CONC, async (i) => {
      const name = `l-${i}`;
      const obj = (await custom.createNamespacedCustomObject({
        group: 'pinfi.io',
        version: 'v1alpha1',
        namespace: 'bench',
        plural: 'computeleases',
        body: {
          apiVersion: 'pinfi.io/v1alpha1',
          kind: 'ComputeLease',
          metadata: { name },
          spec: { pool: poolOf(i), gpus: 1, duration: '6h', maxPrice: { perGpuHour: '40000000' }, payer: { address: payer, authorizationSecretRef: { name: `${name}-auth` } } },
        },
      })) as { metadata: { uid: string } };
      await core.createNamespacedSecret({
        namespace: 'bench',
        body: await authorizationSecret(chain, payerKey, `${name}-auth`, {
          payer, namespace: 'bench', name, uid: obj.metadata.uid, pool: poolOf(i), maxAmount: 10n ** 12n,
          deadline: BigInt(Math.floor(Date.now() / 1000) + 86_400), nonce: BigInt(i),
        }),
      });
    });
    const created = (Date.now() - t0) / 1000;
    console.log(`baseline: ${N} leases + ${N} Secrets created by the client in ${created.toFixed(1)} s (${(N / created).toFixed(0)} leases/s)`);
    // The operator starts with every lease already queued, so neither the client's create rate nor
    // the node start-up sets the pace: from its start to the last lease Active is its own time.
    const writes0 = await apiWrites((a) => cluster.kubectl(a));
    const tStart = Date.now();
    const op = await startOperatorProcess({
      kubeconfig: cluster.kubeconfig,
      args: ['--no-leader-elect', '--log-level', 'warn', '--rpc-url', anvil.rpcUrl, '--escrow-address', chain.escrow, '--lease-workers', String(WORKERS)],
      name: 'operator-bench-leases',
      compiled: COMPILED,
      env: { PINFI_SETTLER_KEY: chain.settlerKey, ...(NODE_OPTS ? { NODE_OPTIONS: NODE_OPTS } : {}) },
    });
    const t1 = Date.now();
    const cpu0 = cpuSeconds(COMPONENTS);
    let last = '';
    for (;;) {
      const by = await phasesFromOperator(op.url);
      const done = (by.get('Active') ?? 0) + (by.get('Failed') ?? 0) + (by.get('Waiting') ?? 0) + (by.get('Expired') ?? 0);
      const line = [...by].map(([k, v]) => `${k}=${v}`).join(' ');
      if (line !== last) console.error(`  ${((Date.now() - t1) / 1000).toFixed(0)} s: ${line}`);
      last = line;
      if (done === N) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const cpu1 = cpuSeconds(COMPONENTS);
    const secs = (Date.now() - tStart) / 1000;
    console.log(`operator start-up (process, informers synced, /readyz): ${((t1 - tStart) / 1000).toFixed(1)} s`);
    // The end state from the API server itself, and why leases that are not Active are not.
    const list = (await custom.listNamespacedCustomObject({ group: 'pinfi.io', version: 'v1alpha1', namespace: 'bench', plural: 'computeleases' })) as { items: { status?: { phase?: string; conditions?: { type: string; reason: string }[] } }[] };
    const reasons = new Map<string, number>();
    for (const l of list.items) {
      const k = `${l.status?.phase ?? 'None'}${l.status?.phase === 'Active' ? '' : `/${l.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? '-'}`}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    console.log(`end state (API server): ${[...reasons].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const wall = (Date.now() - t1) / 1000;
    console.log(`CPU while the operator worked (${wall.toFixed(0)} s wall, 2 cores = ${(2 * wall).toFixed(0)} CPU-s): ${['operator', ...COMPONENTS].map((c) => `${c} ${((cpu1.get(c) ?? 0) - (cpu0.get(c) ?? 0)).toFixed(0)} s`).join(', ')}`);
    const writes = (await apiWrites((a) => cluster.kubectl(a))) - writes0;
    const metricsText = (await (await fetch(`${op.url}/metrics`)).text()).split('\n');
    const metric = (name: string) => Number(metricsText.find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))?.split(' ').pop());
    const escrow = LeaseEscrow__factory.connect(chain.escrow, chain.provider);
    const opened = await escrow.queryFilter(escrow.filters.LeaseOpened(), 0);
    // Opens go out as openMany batches: gas per lease is each transaction's gas over the leases it opened.
    const perTx = new Map<string, number>();
    for (const e of opened) perTx.set(e.transactionHash, (perTx.get(e.transactionHash) ?? 0) + 1);
    const sampleTx = [...perTx.keys()].slice(0, 50);
    let gas = 0n;
    let leasesInSample = 0;
    for (const h of sampleTx) {
      gas += (await chain.provider.getTransactionReceipt(h))?.gasUsed ?? 0n;
      leasesInSample += perTx.get(h) ?? 0;
    }
    const sample = { length: leasesInSample };
    console.log(`leases: ${N} Active or refused ${secs.toFixed(1)} s after the operator was started = ${(N / secs).toFixed(1)} leases/s (goal >= 50)`);
    console.log(`API writes per lease (PATCH/PUT on computeleases): ${(writes / N).toFixed(2)} (goal <= 4)`);
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(`operator RSS: ${mib(metric('process_resident_memory_bytes'))} MiB (goal <= 250); V8 heap used ${mib(metric('nodejs_heap_size_used_bytes'))} of ${mib(metric('nodejs_heap_size_total_bytes'))} MiB; ${WORKERS} lease workers, heap limit ${HEAP_MB || 'default'}, ${COMPILED ? 'compiled (node dist/)' : 'tsx'}, ${BLOCK_TIME > 0 ? `a block every ${BLOCK_TIME} s` : 'automine'}`);
    const spaces = metricsText
      .map((l) => /^nodejs_heap_space_size_(used|total)_bytes\{space="([^"]+)"[^}]*\} (\d+)/.exec(l))
      .filter((x): x is RegExpExecArray => x !== null);
    console.log(`V8 heap spaces, used/total MiB: ${[...new Set(spaces.map((x) => x[2]!))].map((sp) => `${sp} ${mib(Number(spaces.find((x) => x[2] === sp && x[1] === 'used')?.[3]))}/${mib(Number(spaces.find((x) => x[2] === sp && x[1] === 'total')?.[3]))}`).join(', ')}; external ${mib(metric('nodejs_external_memory_bytes'))} MiB`);
    console.log(`operator resident memory by mapping, MiB: ${residentByMapping(op.process.pid)}`);
    console.log(`gas per open (mean over ${sample.length} leases in ${sampleTx.length} transactions): ${sample.length ? (gas / BigInt(sample.length)).toString() : 'n/a'}; ${opened.length} escrows opened in ${perTx.size} transactions`);
    if (SNAPSHOT_DIR) {
      const before = new Set(readdirSync(SNAPSHOT_DIR));
      process.kill(op.process.pid, 'SIGUSR2');
      for (let i = 0; i < 120 && ![...readdirSync(SNAPSHOT_DIR)].some((f) => !before.has(f) && f.endsWith('.heapsnapshot')); i++) await new Promise((r) => setTimeout(r, 1000));
      await new Promise((r) => setTimeout(r, 5000)); // let the writer finish
      console.log(`heap snapshot in ${SNAPSHOT_DIR}: ${readdirSync(SNAPSHOT_DIR).filter((f) => !before.has(f)).join(', ')}`);
    }
    await op.stop();
  } finally {
    await anvil.stop();
    await cluster.delete();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
