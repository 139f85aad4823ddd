// Benchmark: the operator on the Alibaba OpenB node set (1,213 GPU nodes in 7 pools) against a
// real control plane. Prints, idle and while 200 nodes change state:
//   - operator RSS (process_resident_memory_bytes from its /metrics)
//   - status writes per minute (pinfi_status_writes_total), against the reconciles in the same
//     window (controller_runtime_reconcile_total): the writes a naive write-per-reconcile policy
//     would have made — the baseline measured in the same run
//   - time for every pool to converge after the churn
// Usage: npx tsx bench/operator-scale.ts [--idle-seconds 60]
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createCluster } from '../test/env/cluster.js';
import { applyCrds } from '../test/env/environment.js';
import { OPENB_MODELS, openbNodeSet, type OpenbModel } from '../test/env/gpu-nodes.js';
import { createNodes, inParallel, waitNodesReady } from '../test/env/nodes-io.js';
import { startOperatorProcess } from '../test/env/operator-process.js';
import { repoRoot } from '../test/env/paths.js';

const idleSeconds = Number(process.argv[process.argv.indexOf('--idle-seconds') + 1] || 60);
const csv = join(repoRoot, '..', 'shared', 'data', 'alibaba-openb-2023', 'openb_node_list_gpu_node.csv');

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

async function main(): Promise<void> {
  const cluster = await createCluster({ name: `pinfi-bench-${process.pid}`, log: (l) => console.error(l) });
  try {
    await applyCrds(cluster);
    const kc = cluster.kubeConfig();
    const nodes = openbNodeSet(csv);
    let t = Date.now();
    await createNodes(kc, nodes, 64);
    await waitNodesReady(kc, nodes.map((n) => n.name), 600_000);
    console.log(`nodes: ${nodes.length} GPU nodes Ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const models = Object.keys(OPENB_MODELS) as OpenbModel[];
    for (const m of models) {
      await cluster.kubectl(['apply', '-f', '-'], stringify({
        apiVersion: 'pinfi.io/v1alpha1',
        kind: 'GpuPool',
        metadata: { name: m.toLowerCase() },
        spec: {
          nodeSelector: { matchLabels: { 'pinfi.io/openb-model': m } },
          pricing: { token: `0x${'a'.repeat(40)}`, treasury: `0x${'b'.repeat(40)}`, floorPrice: '1000000', ceilingPrice: '40000000' },
        },
      }));
    }
    t = Date.now();
    const op = await startOperatorProcess({ kubeconfig: cluster.kubeconfig, args: ['--no-leader-elect', '--log-level', 'warn'], name: 'operator-bench' });
    const expected = new Map(models.map((m) => [m.toLowerCase(), nodes.filter((n) => n.labels?.['pinfi.io/openb-model'] === m).reduce((s, n) => s + n.gpus, 0)]));
    const converged = async (want: (pool: string) => number) => {
      for (;;) {
        const list = JSON.parse(await cluster.kubectl(['get', 'gpupools', '-o', 'json'])) as { items: { metadata: { name: string }; status?: { allocatable?: number } }[] };
        if (list.items.every((p) => p.status?.allocatable === want(p.metadata.name))) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await converged((p) => expected.get(p) ?? -1);
    console.log(`start-up: 7 pools priced over ${nodes.length} nodes in ${((Date.now() - t) / 1000).toFixed(1)} s after the operator started`);

    const sample = async () => ({
      writes: await metric(op.url, 'pinfi_status_writes_total'),
      reconciles: await metric(op.url, 'controller_runtime_reconcile_total'),
      rss: await metric(op.url, 'process_resident_memory_bytes'),
    });
    const a = await sample();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const b = await sample();
    const perMin = (x: number) => ((x * 60) / idleSeconds).toFixed(1);
    console.log(`idle ${idleSeconds} s: status writes/min ${perMin(b.writes - a.writes)} (write-per-reconcile baseline: ${perMin(b.reconciles - a.reconciles)}), RSS ${(b.rss / 2 ** 20).toFixed(0)} MiB`);

    // Churn: cordon 200 nodes (spread over the pools), then uncordon them.
    const churn = nodes.filter((_, i) => i % 6 === 0).slice(0, 200).map((n) => n.name);
    const lost = new Map<string, number>();
    for (const n of nodes) if (churn.includes(n.name)) {
      const p = (n.labels?.['pinfi.io/openb-model'] ?? '').toLowerCase();
      lost.set(p, (lost.get(p) ?? 0) + n.gpus);
    }
    t = Date.now();
    const c0 = await sample();
    await inParallel(churn, 16, async (name) => void (await cluster.kubectl(['cordon', name])));
    await converged((p) => (expected.get(p) ?? 0) - (lost.get(p) ?? 0));
    const cordoned = (Date.now() - t) / 1000;
    await inParallel(churn, 16, async (name) => void (await cluster.kubectl(['uncordon', name])));
    await converged((p) => expected.get(p) ?? -1);
    const total = (Date.now() - t) / 1000;
    const c1 = await sample();
    console.log(
      `churn: 200 nodes cordoned then uncordoned in ${total.toFixed(1)} s (pools converged on the cordon in ${cordoned.toFixed(1)} s): ` +
        `${c1.writes - c0.writes} status writes (${(((c1.writes - c0.writes) * 60) / total).toFixed(0)}/min), ` +
        `${c1.reconciles - c0.reconciles} reconciles (write-per-reconcile baseline), RSS ${(c1.rss / 2 ** 20).toFixed(0)} MiB`,
    );
    await op.stop();
  } finally {
    await cluster.delete();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
