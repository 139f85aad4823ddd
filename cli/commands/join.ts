// `pinfi join NODE --pool P --payout-address A`: a provider's node into a pool. Labels it with
// the pool and the payout address and taints it pinfi.io/pool=P:NoSchedule (only the pool's
// lease pods run there), after checking, with the operator's own inventory rules, that the node
// really reports the pool's resource and that the pool will count it.
import { Command } from 'commander';
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { GPU_POOLS } from '../../operator/src/api/resources.js';
import type { GpuPool } from '../../operator/src/api/types.js';
import { assignNodes, poolInventory, type PoolRef } from '../../operator/src/inventory/inventory.js';
import { PAYOUT_LABEL, POOL_LABEL, POOL_TAINT, PRODUCT_LABEL } from '../../operator/src/inventory/labels.js';
import { parseCount } from '../../operator/src/inventory/quantity.js';
import { matchesSelector, type LabelSelector } from '../../operator/src/inventory/selector.js';
import { RESOURCES } from '../../operator/src/kube/resources.js';
import { parseAddress } from '../chain.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { Kube } from '../kube.js';
import { kubeOptions, outputOption, type KubeOpts, type OutputOpts } from '../options.js';
import { render } from '../output.js';

export type JoinPlan = {
  node: string;
  pool: string;
  payoutAddress: string;
  resource: string;
  gpus: number;
  product: string | undefined;
  labels: Record<string, string>;
  taints: V1Taint[];
  /** Already in this pool with this payout address and taint: nothing to write. */
  unchanged: boolean;
  warnings: string[];
};

/**
 * A pool as the inventory sees it: the same fields as poolRef in operator/src/pools/reconciler.ts,
 * built here so the CLI does not load the controller (and its metrics and API machinery) to start.
 */
export function poolRefOf(p: GpuPool): PoolRef {
  const created = p.metadata?.creationTimestamp;
  return {
    name: p.metadata?.name ?? '',
    selector: p.spec.nodeSelector,
    resourceName: p.spec.resourceName ?? 'nvidia.com/gpu',
    createdAt: created ? new Date(created).getTime() : 0,
  };
}

/** The node's taints with exactly one pool taint, for `pool`; other taints kept in order. */
export function withPoolTaint(taints: readonly V1Taint[] | undefined, pool: string): V1Taint[] {
  return [...(taints ?? []).filter((t) => t.key !== POOL_TAINT), { key: POOL_TAINT, value: pool, effect: 'NoSchedule' }];
}

export function selectorText(s: LabelSelector): string {
  const parts = [
    ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(s.matchExpressions ?? []).map((e) => (e.values?.length ? `${e.key} ${e.operator} (${e.values.join(',')})` : `${e.operator === 'DoesNotExist' ? '!' : ''}${e.key}`)),
  ];
  return parts.join(', ') || '(nothing)';
}

/** Which of the selector's terms the labels fail, in words. */
function unmatched(s: LabelSelector, labels: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) out.push(`${k}=${v} (node has ${labels[k] === undefined ? 'no such label' : `${k}=${labels[k]}`})`);
  for (const e of s.matchExpressions ?? []) if (!matchesSelector({ matchExpressions: [e] }, labels)) out.push(selectorText({ matchExpressions: [e] }));
  return out;
}

/** Checks and plans the join (pure). Throws a CliError saying what to do when the node cannot join. */
export function planJoin(node: V1Node, pool: GpuPool, pools: readonly GpuPool[], payout: string, o: { overwrite?: boolean; force?: boolean } = {}): JoinPlan {
  const nodeName = node.metadata?.name ?? '';
  const poolName = pool.metadata?.name ?? '';
  const labels = node.metadata?.labels ?? {};
  const resource = pool.spec.resourceName ?? 'nvidia.com/gpu';
  const warnings: string[] = [];

  const inPool = labels[POOL_LABEL];
  if (inPool !== undefined && inPool !== poolName && !o.overwrite) {
    throw new CliError(`node ${nodeName} is labelled for pool ${inPool} already`, `pass --overwrite to move it to ${poolName} (leases running there keep their reservations until they end)`);
  }
  const paysTo = labels[PAYOUT_LABEL];
  if (paysTo !== undefined && paysTo.toLowerCase() !== payout.toLowerCase() && !o.overwrite) {
    throw new CliError(`node ${nodeName} pays out to ${paysTo} already`, 'pass --overwrite to change its payout address');
  }

  const allocatable = node.status?.allocatable ?? {};
  const raw = allocatable[resource];
  if (raw === undefined) {
    const reported = Object.entries(allocatable).filter(([k]) => k.startsWith('nvidia.com/')).map(([k, v]) => `${k}: ${v}`);
    if (reported.length === 0) {
      throw new CliError(
        `node ${nodeName} reports no NVIDIA GPUs in status.allocatable (pool ${poolName} sells ${resource})`,
        'install the NVIDIA device plugin (and GPU Feature Discovery) on the node, wait until kubectl describe node shows the GPUs, then join again',
      );
    }
    throw new CliError(
      `node ${nodeName} does not report ${resource}, which pool ${poolName} sells; it reports ${reported.join(', ')}`,
      'join it to a pool of the resource it reports (kubectl pinfi pools -o wide shows each pool\'s resource), or reconfigure the device plugin',
    );
  }
  const count = parseCount(raw);
  if (count === undefined) throw new CliError(`node ${nodeName} reports ${resource} as "${raw}", not a whole number of devices`, 'check the device plugin on the node');
  if (count === 0) throw new CliError(`node ${nodeName} reports 0 allocatable ${resource}: the device plugin marks every GPU unhealthy`, 'fix the GPUs (nvidia-smi, the device plugin log), then join again');

  const after: V1Node = { ...node, metadata: { ...node.metadata, labels: { ...labels, [POOL_LABEL]: poolName, [PAYOUT_LABEL]: payout } } };
  const afterLabels = after.metadata?.labels ?? {};
  if (!matchesSelector(pool.spec.nodeSelector, afterLabels)) {
    throw new CliError(
      `pool ${poolName} selects nodes with ${selectorText(pool.spec.nodeSelector)}; node ${nodeName} does not match: ${unmatched(pool.spec.nodeSelector, afterLabels).join('; ')}`,
      `pick the pool that sells this node's GPUs (kubectl pinfi pools -o wide), or label the node to match (kubectl label node ${nodeName} KEY=VALUE)`,
    );
  }
  const ref = poolRefOf(pool);
  const owners = assignNodes(pools.map(poolRefOf), [after]);
  const inv = poolInventory(ref, [after], owners, new Map(), new Map());
  const excluded = inv.excluded[0];
  if (excluded) {
    if (excluded.reason === 'NotReady' || excluded.reason === 'Cordoned') {
      warnings.push(`node ${nodeName} ${excluded.message}: it counts in pool ${poolName} once it is Ready and schedulable`);
    } else {
      throw new CliError(`pool ${poolName} would not count node ${nodeName}: ${excluded.message}`, excluded.reason === 'ClaimedByPool'
        ? `the older pool ${owners.get(nodeName)} selects this node too and sells its GPUs; change the node's labels or that pool's selector`
        : 'join it to a pool of the resource it reports');
    }
  }
  const product = labels[PRODUCT_LABEL];
  const poolProduct = pool.status?.product;
  if (poolProduct && poolProduct !== 'Mixed' && product && product !== poolProduct) {
    if (!o.force) {
      throw new CliError(`pool ${poolName} sells ${poolProduct}, but node ${nodeName} has ${product}`, 'different GPUs are different goods: pick the pool for this product, or pass --force to mix them');
    }
    warnings.push(`pool ${poolName} sells ${poolProduct}; node ${nodeName} has ${product}: the pool becomes Mixed`);
  }
  const taints = withPoolTaint(node.spec?.taints, poolName);
  const unchanged = inPool === poolName && paysTo === payout && (node.spec?.taints ?? []).filter((t) => t.key === POOL_TAINT).length === 1
    && (node.spec?.taints ?? []).some((t) => t.key === POOL_TAINT && t.value === poolName && t.effect === 'NoSchedule');
  return { node: nodeName, pool: poolName, payoutAddress: payout, resource, gpus: count, product, labels: { [POOL_LABEL]: poolName, [PAYOUT_LABEL]: payout }, taints, unchanged, warnings };
}

type JoinOpts = KubeOpts & OutputOpts & { pool: string; payoutAddress: string; overwrite?: boolean; force?: boolean; dryRun?: boolean };

export function joinCommand(io: Io): Command {
  const cmd = new Command('join')
    .description("Join a provider's GPU node to a pool: label it with the pool and a payout address and taint it for the pool's leases")
    .argument('<node>', 'the Node to join')
    .requiredOption('--pool <name>', 'the GpuPool to join')
    .requiredOption('--payout-address <address>', 'where settlements credit this node\'s earnings (withdraw them with kubectl pinfi withdraw)')
    .option('--overwrite', 'move a node labelled for another pool, or change its payout address')
    .option('--force', "join even though the node's GPU product differs from the pool's")
    .option('--dry-run', 'check and print what would change, change nothing');
  kubeOptions(cmd);
  outputOption(cmd, ['table', 'json', 'yaml']);
  cmd
    .addHelpText('after', `
The node must report the pool's resource (nvidia.com/gpu, nvidia.com/gpu.shared or a MIG
profile) in status.allocatable, as the NVIDIA device plugin publishes it, and match the pool's
node selector once labelled. The taint keeps every pod but the pool's lease pods off the node;
pods already running there keep running.

Examples:
  kubectl pinfi join gpu-node-7 --pool a100 --payout-address 0xProviderAddress
  kubectl pinfi join gpu-node-7 --pool a100 --payout-address 0xProviderAddress --dry-run -o yaml
`)
    .action(async (nodeName: string, o: JoinOpts) => {
      const payout = parseAddress(o.payoutAddress, '--payout-address');
      const kube = Kube.connect(o, io.env);
      const node = await kube.need<V1Node>(RESOURCES.nodes, nodeName, 'list the nodes with: kubectl get nodes -L nvidia.com/gpu.product');
      const pools = await kube.list<GpuPool>(GPU_POOLS);
      const pool = pools.find((p) => p.metadata?.name === o.pool);
      if (!pool) throw new CliError(`GpuPool "${o.pool}" not found`, `pools in this cluster: ${pools.map((p) => p.metadata?.name).join(', ') || 'none'}`);
      const plan = planJoin(node, pool, pools, payout, o);
      for (const w of plan.warnings) io.err(`warning: ${w}\n`);
      const taint = `${POOL_TAINT}=${plan.pool}:NoSchedule`;
      const data = { ...plan, taint, dryRun: !!o.dryRun };
      if (!o.dryRun && !plan.unchanged) {
        await kube.mergePatch(RESOURCES.nodes, nodeName, { metadata: { resourceVersion: node.metadata?.resourceVersion, labels: plan.labels }, spec: { taints: plan.taints } });
      }
      const verb = o.dryRun ? 'would join' : plan.unchanged ? 'is already in' : 'joined';
      io.out(render(o.output, data, () => `node/${plan.node} ${verb} pool ${plan.pool}: ${plan.gpus} × ${plan.resource}${plan.product ? ` (${plan.product})` : ''}, payouts to ${plan.payoutAddress}, tainted ${taint}\n`));
    });
  return cmd;
}
