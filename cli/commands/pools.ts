// `pinfi pools`: the GPU pools of the cluster, priced now.
import { Command } from 'commander';
import { GPU_POOLS } from '../../operator/src/api/resources.js';
import type { GpuPool } from '../../operator/src/api/types.js';
import type { ResourceType } from '../../operator/src/kube/resources.js';
import type { TokenInfo } from '../../operator/src/settlement/index.js';
import { optionalChain, Tokens } from '../chain.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { Kube } from '../kube.js';
import { percent, poolMarket, type PoolMarket } from '../market.js';
import { showAmount } from '../amounts.js';
import { kubeOptions, outputOption, type KubeOpts, type OutputOpts } from '../options.js';
import { render, renderRows, type Column } from '../output.js';
import { pricePoints, renderTrend, trendOf, type PoolEvent, type Trend } from '../trend.js';

const CORE_EVENTS = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true } as const satisfies ResourceType;
const HISTORY_MS = 24 * 3600_000;

export type PoolRow = {
  name: string;
  product: string;
  resourceName: string;
  nodes: number | undefined;
  gpus: number | undefined;
  free: number | undefined;
  utilization: string | undefined;
  /** GPUs lent to pre-emptible leases; undefined when the pool does not lend (spec.leases.lendIdleGpus). */
  lent: number | undefined;
  /** The most it lends at one time (spec.leases.maxLent), as written; undefined: no cap. */
  maxLent: number | string | undefined;
  /** Spot price per GPU-hour now, base units (undefined before the operator priced the pool). */
  spotPrice: bigint | undefined;
  floorPrice: string;
  ceilingPrice: string;
  feeBps: number;
  token: string;
  tokenInfo: TokenInfo | undefined;
  ready: string;
  trend: Trend | undefined;
};

export function poolRow(pool: GpuPool, market: PoolMarket | undefined, events: readonly PoolEvent[], nowMs: number, token: TokenInfo | undefined): PoolRow {
  const st = pool.status;
  const name = pool.metadata?.name ?? '';
  return {
    name,
    product: st?.product || '-',
    resourceName: pool.spec.resourceName ?? 'nvidia.com/gpu',
    nodes: st?.nodeCount,
    gpus: st?.allocatable,
    free: st?.free,
    utilization: market?.utilization ?? st?.utilization,
    lent: pool.spec.leases?.lendIdleGpus ? (st?.lent ?? 0) : st?.lent || undefined,
    maxLent: pool.spec.leases?.lendIdleGpus ? pool.spec.leases.maxLent : undefined,
    spotPrice: market?.spot ?? (st?.spotPrice ? BigInt(st.spotPrice) : undefined),
    floorPrice: pool.spec.pricing.floorPrice,
    ceilingPrice: pool.spec.pricing.ceilingPrice,
    feeBps: pool.spec.pricing.feeBps ?? 0,
    token: pool.spec.pricing.token,
    tokenInfo: token,
    ready: st?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
    trend: market ? trendOf(pricePoints(events, name, nowMs - HISTORY_MS), nowMs, market.spot, market.spotIn1h) : undefined,
  };
}

const num = (n: number | undefined) => (n === undefined ? '-' : String(n));

export const POOL_COLUMNS: readonly Column<PoolRow>[] = [
  { header: 'name', cell: (r) => r.name },
  { header: 'product', cell: (r) => r.product },
  { header: 'resource', cell: (r) => r.resourceName, wide: true },
  { header: 'nodes', cell: (r) => num(r.nodes), wide: true },
  { header: 'gpus', cell: (r) => num(r.gpus) },
  { header: 'free', cell: (r) => num(r.free) },
  { header: 'price/gpu-h', cell: (r) => showAmount(r.spotPrice, r.tokenInfo) },
  { header: 'util', cell: (r) => percent(r.utilization) },
  { header: 'trend', cell: (r) => (r.trend ? renderTrend(r.trend) : '-') },
  { header: 'lent', cell: (r) => (r.lent === undefined ? '-' : r.maxLent === undefined ? String(r.lent) : `${r.lent} (max ${r.maxLent})`), wide: true },
  { header: 'floor', cell: (r) => showAmount(r.floorPrice, r.tokenInfo), wide: true },
  { header: 'ceiling', cell: (r) => showAmount(r.ceilingPrice, r.tokenInfo), wide: true },
  { header: 'fee', cell: (r) => `${r.feeBps / 100}%`, wide: true },
  { header: 'ready', cell: (r) => r.ready, wide: true },
  { header: 'token', cell: (r) => r.tokenInfo?.symbol ?? r.token, wide: true },
];

function jsonRow(r: PoolRow): Record<string, unknown> {
  const { tokenInfo, trend, ...rest } = r;
  return {
    ...rest,
    ...(tokenInfo ? { tokenSymbol: tokenInfo.symbol, tokenDecimals: tokenInfo.decimals } : {}),
    ...(trend ? { trend: { drift: trend.drift, priceIn1h: trend.priceIn1h, history: trend.history.map((p) => ({ at: new Date(p.at).toISOString(), price: p.price })) } } : {}),
  };
}

export function poolsCommand(io: Io): Command {
  const cmd = new Command('pools')
    .description('List the GPU pools: product, GPUs, free GPUs, spot price per GPU-hour, utilisation and price trend')
    .argument('[names...]', 'only these pools');
  kubeOptions(cmd);
  outputOption(cmd);
  cmd
    .option('--rpc-url <url>', 'read each pool token\'s symbol and decimals to show prices in tokens (default: $PINFI_RPC_URL; without it: base units)')
    .addHelpText('after', `
Prices are per GPU-hour, computed now from each pool's status with the operator's pricing engine.
TREND shows the spot price over the last capacity changes (from the pool's events), then where
it drifts in the next hour if nothing changes: ↗ rising (busier than the target utilisation),
↘ falling, → at rest.

Examples:
  kubectl pinfi pools
  kubectl pinfi pools a100 -o wide
  kubectl pinfi pools -o json | jq '.[] | {name, free, spotPrice}'
`)
    .action(async (names: string[], opts: KubeOpts & OutputOpts & { rpcUrl?: string }) => {
      const kube = Kube.connect(opts, io.env);
      let pools = await kube.list<GpuPool>(GPU_POOLS);
      if (names.length > 0) {
        const missing = names.filter((n) => !pools.some((p) => p.metadata?.name === n));
        if (missing.length > 0) {
          throw new CliError(`GpuPool ${missing.join(', ')} not found`, `pools in this cluster: ${pools.map((p) => p.metadata?.name).join(', ') || 'none'}`);
        }
        pools = pools.filter((p) => names.includes(p.metadata?.name ?? ''));
      }
      pools.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
      // Price history is a nicety: without permission to list events, the trend shows the drift only.
      const events = await kube
        .list<PoolEvent & { metadata?: Record<string, string> }>(CORE_EVENTS, { fieldSelector: 'involvedObject.kind=GpuPool,reason=CapacityChanged' })
        .catch(() => []);
      const chain = await optionalChain(opts.rpcUrl ?? io.env.rpcUrl, io);
      const tokens = new Tokens(chain?.provider);
      const nowMs = io.now();
      const rows = await Promise.all(pools.map(async (p) => poolRow(p, poolMarket(p, Math.floor(nowMs / 1000)), events, nowMs, await tokens.info(p.spec.pricing.token))));
      chain?.provider.destroy();
      if (rows.length === 0 && opts.output !== 'json' && opts.output !== 'yaml') {
        io.err('No GpuPools found. A cluster admin creates them (see docs/cli.md, "pools").\n');
        return;
      }
      io.out(render(opts.output, rows.map(jsonRow), (wide) => renderRows(rows, POOL_COLUMNS, wide)));
    });
  return cmd;
}
