// Benchmark: from a lease turning Active to all its pods Running. A lease (Funded, reservation of
// 4 A100 nodes x 8 GPUs) has 32 one-GPU pods waiting behind the scheduling gate; its status is
// set to Active (as the lease controller does) and the clock runs until kwok reports every pod
// Running. Split into: gates removed (operator), all bound (kube-scheduler + extender), all
// Running (kwok's kubelet). Everything real except the kubelet: kube-apiserver, kube-scheduler
// with the pinfi profile and the extender, the admission webhook, the gate controller.
//   npx tsx bench/extender-activation.ts [--trials 5] [--pods 32]
import type { V1Pod } from '@kubernetes/client-node';
import { LEASE_GATE } from '../operator/src/enforcement/names.js';
import { InformerFactory } from '../operator/src/kube/informers.js';
import { RESOURCES } from '../operator/src/kube/resources.js';
import { OPENB_MODELS, type GpuNodeSpec } from '../test/env/gpu-nodes.js';
import { inParallel } from '../test/env/nodes-io.js';
import { createLease, createNamespace, createPod, podManifest, setLeaseStatus, startSchedulingEnv } from '../test/scheduler/harness.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const TRIALS = arg('--trials', 5);
const PODS = arg('--pods', 32);
const log = (l: string) => process.stderr.write(`${l}\n`);

async function main(): Promise<void> {
  const nodes: GpuNodeSpec[] = Array.from({ length: 4 * TRIALS }, (_, i) => ({ name: `a100-${i}`, model: OPENB_MODELS.G2, gpus: 8 }));
  const env = await startSchedulingEnv({ name: `pinfi-bench-act-${process.pid}`, nodes, pools: { a100: OPENB_MODELS.G2.product }, log });
  try {
    const factory = new InformerFactory({ clients: env.clients });
    const pods = factory.forResource<V1Pod>(RESOURCES.pods);
    factory.start();
    await factory.waitForSync();
    const rows: { released: number; bound: number; running: number }[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const ns = `act-${trial}`;
      await createNamespace(env.clients, ns);
      const perNode = Math.ceil(PODS / 4);
      const reservation = [0, 1, 2, 3].map((k) => ({ node: `a100-${4 * trial + k}`, gpus: perNode }));
      await createLease(env.clients, ns, 'job', 'a100', PODS, { phase: 'Funded', reservation });
      await inParallel(Array.from({ length: PODS }, (_, i) => i), 16, async (i) => void (await createPod(env.clients, podManifest(ns, `job-${i}`, { lease: 'job', gpus: 1 }))));
      const mine = () => pods.store.list().filter((p) => p.metadata?.namespace === ns);
      for (;;) {
        const ps = mine();
        if (ps.length === PODS && ps.every((p) => p.status?.conditions?.some((c) => c.reason === 'SchedulingGated'))) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const t0 = performance.now();
      const marks = { released: 0, bound: 0, running: 0 };
      await setLeaseStatus(env.clients, ns, 'job', { phase: 'Active', reservation, startTime: new Date().toISOString(), endTime: new Date(Date.now() + 3_600_000).toISOString() });
      for (;;) {
        const ps = mine();
        const now = performance.now() - t0;
        if (!marks.released && ps.every((p) => !(p.spec?.schedulingGates ?? []).some((g) => g.name === LEASE_GATE))) marks.released = now;
        if (!marks.bound && ps.every((p) => p.spec?.nodeName)) marks.bound = now;
        if (ps.every((p) => p.status?.phase === 'Running')) {
          marks.running = now;
          break;
        }
        if (now > 120_000) throw new Error(`trial ${trial}: pods not Running after 120 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      rows.push(marks);
      log(`[bench] trial ${trial}: gates off ${(marks.released / 1000).toFixed(2)} s, bound ${(marks.bound / 1000).toFixed(2)} s, Running ${(marks.running / 1000).toFixed(2)} s`);
    }
    await factory.stop();
    const col = (k: keyof (typeof rows)[number]) => rows.map((r) => r[k]).sort((a, b) => a - b);
    const med = (xs: number[]) => xs[Math.floor(xs.length / 2)] as number;
    console.log(`lease Active → ${PODS} gated one-GPU pods Running (4 reserved nodes), ${TRIALS} trials`);
    for (const k of ['released', 'bound', 'running'] as const) {
      const xs = col(k);
      console.log(`  ${k.padEnd(9)} median ${(med(xs) / 1000).toFixed(2)} s   max ${((xs[xs.length - 1] as number) / 1000).toFixed(2)} s`);
    }
    console.log(`  goal: all Running <= 2 s after activation`);
  } finally {
    await env.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
