// `pinfi quote`: what a lease would cost now. Computed here from the pool's status with the
// operator's engine (no network hop to the operator), or asked from the operator's /quote.
import { Command } from 'commander';
import { GPU_POOLS } from '../../operator/src/api/resources.js';
import type { ComputeLease, GpuPool } from '../../operator/src/api/types.js';
import { refuse } from '../../operator/src/leases/validation.js';
import type { TokenInfo } from '../../operator/src/settlement/index.js';
import { showAmount } from '../amounts.js';
import { durationText, leaseSeconds, parseGpus } from '../args.js';
import { optionalChain, Tokens } from '../chain.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { Kube } from '../kube.js';
import { needMarket, quoteFrom } from '../market.js';
import { kubeOptions, outputOption, type KubeOpts, type OutputOpts } from '../options.js';
import { render, renderRows, type Column } from '../output.js';

export type QuoteView = {
  pool: string;
  gpus: number;
  seconds: number;
  duration: string;
  total: bigint;
  perGpuHour: bigint;
  spotBefore: bigint;
  spotAfter: bigint;
  priceImpactBps: number;
  free: number;
  allocatable: number;
  token: string;
  source: 'local' | 'operator';
  at: string;
};

const COLUMNS: readonly Column<QuoteView & { tokenInfo: TokenInfo | undefined }>[] = [
  { header: 'pool', cell: (q) => q.pool },
  { header: 'gpus', cell: (q) => String(q.gpus) },
  { header: 'duration', cell: (q) => q.duration },
  { header: 'total', cell: (q) => showAmount(q.total, q.tokenInfo) },
  { header: 'price/gpu-h', cell: (q) => showAmount(q.perGpuHour, q.tokenInfo) },
  { header: 'spot now', cell: (q) => showAmount(q.spotBefore, q.tokenInfo) },
  { header: 'spot after', cell: (q) => showAmount(q.spotAfter, q.tokenInfo) },
  { header: 'impact', cell: (q) => `${(q.priceImpactBps / 100).toFixed(2)}%` },
  { header: 'free', cell: (q) => `${q.free}/${q.allocatable}` },
  { header: 'source', cell: (q) => q.source, wide: true },
];

/** The quote from the pool's status and the engine, as the operator computes it. */
export function localQuote(pool: GpuPool, gpus: number, seconds: number, nowMs: number): QuoteView {
  const name = pool.metadata?.name ?? '';
  const m = needMarket(pool, Math.floor(nowMs / 1000));
  const r = quoteFrom(m, gpus, seconds);
  if (!r.ok) {
    throw new CliError(`pool ${name} has ${r.free} free GPUs, fewer than the ${gpus} asked for`, 'ask for fewer GPUs, try later, or pick another pool (kubectl pinfi pools)');
  }
  const q = r.quote;
  return {
    pool: name, gpus, seconds, duration: durationText(seconds),
    total: q.total, perGpuHour: q.perGpuHour, spotBefore: q.spotBefore, spotAfter: q.spotAfter, priceImpactBps: q.priceImpactBps,
    free: m.capacity.free, allocatable: m.capacity.allocatable, token: pool.spec.pricing.token, source: 'local', at: new Date(nowMs).toISOString(),
  };
}

async function operatorQuote(url: string, pool: string, gpus: number, seconds: number): Promise<QuoteView> {
  const u = new URL('/quote', url);
  u.searchParams.set('pool', pool);
  u.searchParams.set('gpus', String(gpus));
  u.searchParams.set('duration', durationText(seconds));
  let res: Response;
  try {
    res = await fetch(u, { signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new CliError(`cannot reach the operator at ${url}`, 'check --operator-url (e.g. after kubectl port-forward -n pinfi-system svc/pinfi-operator 8080), or leave it out to compute the quote here');
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new CliError(`the operator refused the quote: ${String(body.error ?? res.status)}`);
  const big = (k: string) => BigInt(String(body[k] ?? '0'));
  return {
    pool, gpus, seconds, duration: durationText(seconds),
    total: big('total'), perGpuHour: big('perGpuHour'), spotBefore: big('spotBefore'), spotAfter: big('spotAfter'),
    priceImpactBps: Number(body.priceImpactBps ?? 0), free: Number(body.free ?? 0), allocatable: Number(body.allocatable ?? 0),
    token: String(body.token ?? ''), source: 'operator', at: String(body.at ?? ''),
  };
}

/** Why the pool would refuse a lease of this shape (namespace, size, length), if it would. */
export function poolRefusal(pool: GpuPool, namespace: string, gpus: number, seconds: number): string | undefined {
  const probe = { metadata: { namespace }, spec: { pool: pool.metadata?.name ?? '', gpus, duration: durationText(seconds) } } as ComputeLease;
  return refuse(probe, pool)?.message;
}

type QuoteOpts = KubeOpts & OutputOpts & { pool: string; gpus: string; hours?: string; duration?: string; operatorUrl?: string; rpcUrl?: string };

export function quoteCommand(io: Io): Command {
  const cmd = new Command('quote')
    .description('What GPUs cost now: the total and per-GPU-hour price of a lease, and how it moves the pool price')
    .requiredOption('--pool <name>', 'GpuPool to quote from')
    .requiredOption('--gpus <n>', 'number of GPUs')
    .option('--hours <h>', 'lease length in hours (decimals allowed)')
    .option('--duration <d>', 'lease length as a duration: 6h, 90m, 1h30m')
    .option('--operator-url <url>', "ask the operator's /quote endpoint instead of computing the quote here (default: $PINFI_OPERATOR_URL, else computed here)")
    .option('--rpc-url <url>', 'read the token to show amounts in tokens (default: $PINFI_RPC_URL)');
  kubeOptions(cmd);
  outputOption(cmd);
  cmd
    .addHelpText('after', `
The quote is computed from the pool's status with the operator's own pricing engine: the same
numbers the operator's /quote gives, without a connection to the operator. It is not a promise:
the lease is priced when the operator takes it, so set its maxPrice a little above the quote.

Examples:
  kubectl pinfi quote --pool a100 --gpus 4 --hours 6
  kubectl pinfi quote --pool a100 --gpus 1 --duration 90m -o json
  kubectl pinfi quote --pool a100 --gpus 4 --hours 6 --operator-url http://localhost:8080
`)
    .action(async (o: QuoteOpts) => {
      const gpus = parseGpus(o.gpus);
      const seconds = leaseSeconds(o);
      const kube = Kube.connect(o, io.env);
      const pool = await kube.need<GpuPool>(GPU_POOLS, o.pool, 'list the pools with: kubectl pinfi pools');
      const url = o.operatorUrl ?? io.env.operatorUrl;
      const q = url ? await operatorQuote(url, o.pool, gpus, seconds) : localQuote(pool, gpus, seconds, io.now());
      const refusal = poolRefusal(pool, kube.namespace, gpus, seconds);
      if (refusal) io.err(`warning: a lease like this would be refused: ${refusal}\n`);
      const chain = await optionalChain(o.rpcUrl ?? io.env.rpcUrl, io);
      const tokenInfo = await new Tokens(chain?.provider).info(pool.spec.pricing.token);
      chain?.provider.destroy();
      io.out(render(o.output, q, (wide) => renderRows([{ ...q, tokenInfo }], COLUMNS, wide)));
    });
  return cmd;
}
