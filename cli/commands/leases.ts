// `pinfi leases [NAME]`: ComputeLeases with their state, locked price, time left and transaction.
import { Command } from 'commander';
import { COMPUTE_LEASES, GPU_POOLS } from '../../operator/src/api/resources.js';
import type { ComputeLease, GpuPool } from '../../operator/src/api/types.js';
import { waitDeadlineMs } from '../../operator/src/leases/validation.js';
import { remainingSeconds } from '../../operator/src/leases/lent.js';
import type { TokenInfo } from '../../operator/src/settlement/index.js';
import { showAmount } from '../amounts.js';
import { optionalChain, Tokens } from '../chain.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { Kube } from '../kube.js';
import { kubeOptions, outputOption, type KubeOpts, type OutputOpts } from '../options.js';
import { humanDuration, render, renderRows, shortHex, type Column } from '../output.js';

export type LeaseRow = {
  namespace: string;
  name: string;
  pool: string;
  gpus: number;
  duration: string;
  phase: string;
  /** Why it is not Ready, when it is not (AuthorizationMissing, PriceAboveLimit…). */
  reason: string | undefined;
  message: string | undefined;
  pricePerGpuHour: string | undefined;
  total: string | undefined;
  /** What the TIME LEFT column says. */
  timeLeft: string;
  secondsLeft: number | undefined;
  endTime: string | undefined;
  payer: string;
  leaseId: string | undefined;
  openTx: string | undefined;
  settleTx: string | undefined;
  closeReason: string | undefined;
  token: TokenInfo | undefined;
};

const TERMINAL = new Set(['Settled', 'Expired', 'Failed']);

/** Time left, in words: until the end while it runs; until the deadline while it waits; "-" once over. */
export function timeLeft(l: ComputeLease, nowMs: number): { text: string; seconds: number | undefined } {
  const phase = l.status?.phase ?? 'Pending';
  if (TERMINAL.has(phase)) return { text: '-', seconds: undefined };
  if (phase === 'Active' || phase === 'Ending') {
    const end = Date.parse(l.status?.endTime ?? '');
    if (!Number.isFinite(end)) return { text: '-', seconds: undefined };
    const s = Math.floor((end - nowMs) / 1000);
    return s > 0 ? { text: humanDuration(s), seconds: s } : { text: 'ending', seconds: 0 };
  }
  if (phase === 'Reserved' || phase === 'Funded') return { text: 'starting', seconds: undefined };
  if (phase === 'Preempted') return { text: `pre-empted, ${humanDuration(remainingSeconds(l))} to run`, seconds: undefined };
  const s = Math.floor((waitDeadlineMs(l) - nowMs) / 1000);
  return { text: s > 0 ? `waits ≤${humanDuration(s)}` : 'expiring', seconds: undefined };
}

export function leaseRow(l: ComputeLease, nowMs: number, token: TokenInfo | undefined): LeaseRow {
  const st = l.status ?? {};
  const ready = st.conditions?.find((c) => c.type === 'Ready');
  const left = timeLeft(l, nowMs);
  return {
    namespace: l.metadata?.namespace ?? '',
    name: l.metadata?.name ?? '',
    pool: l.spec.pool,
    gpus: l.spec.gpus,
    duration: l.spec.duration,
    phase: st.phase ?? 'Pending',
    reason: ready && ready.status !== 'True' ? ready.reason : undefined,
    message: st.message ?? (ready && ready.status !== 'True' ? ready.message : undefined),
    pricePerGpuHour: st.quote?.pricePerGpuHour,
    total: st.quote?.total,
    timeLeft: left.text,
    secondsLeft: left.seconds,
    endTime: st.endTime,
    payer: l.spec.payer.address,
    leaseId: st.chain?.leaseId,
    openTx: st.chain?.openTx,
    settleTx: st.chain?.settleTx,
    closeReason: st.closeReason,
    token,
  };
}

export function leaseColumns(allNamespaces: boolean): Column<LeaseRow>[] {
  return [
    ...(allNamespaces ? [{ header: 'namespace', cell: (r: LeaseRow) => r.namespace }] : []),
    { header: 'name', cell: (r) => r.name },
    { header: 'pool', cell: (r) => r.pool },
    { header: 'gpus', cell: (r) => String(r.gpus) },
    { header: 'duration', cell: (r) => r.duration, wide: true },
    { header: 'state', cell: (r) => (r.closeReason && r.closeReason !== 'Completed' ? `${r.phase} (${r.closeReason})` : r.phase) },
    { header: 'price/gpu-h', cell: (r) => showAmount(r.pricePerGpuHour, r.token) },
    { header: 'total', cell: (r) => showAmount(r.total, r.token), wide: true },
    { header: 'time left', cell: (r) => r.timeLeft },
    { header: 'tx', cell: (r) => shortHex(r.settleTx ?? r.openTx) },
    { header: 'reason', cell: (r) => r.reason ?? '-', wide: true },
    { header: 'payer', cell: (r) => r.payer, wide: true },
    { header: 'open tx', cell: (r) => r.openTx ?? '-', wide: true },
    { header: 'settle tx', cell: (r) => r.settleTx ?? '-', wide: true },
  ];
}

function jsonRow(r: LeaseRow): Record<string, unknown> {
  const { token, ...rest } = r;
  return { ...rest, ...(token ? { tokenSymbol: token.symbol, tokenDecimals: token.decimals } : {}) };
}

export function leasesCommand(io: Io): Command {
  const cmd = new Command('leases')
    .description('List ComputeLeases: state, locked price, time left and the settlement transaction')
    .argument('[names...]', 'only these leases');
  kubeOptions(cmd, { allNamespaces: true });
  outputOption(cmd);
  cmd
    .option('--rpc-url <url>', 'read the pool tokens to show amounts in tokens (default: $PINFI_RPC_URL; without it: base units)')
    .addHelpText('after', `
TIME LEFT is the time until the lease ends while it is Active, or how long it may still wait for
an acceptable price while Pending or Waiting. TX is the settlement transaction once settled,
else the escrow's opening transaction. -o wide adds the reason a lease waits (for example
AuthorizationMissing: run kubectl pinfi sign) and full transaction hashes.

Examples:
  kubectl pinfi leases
  kubectl pinfi leases train -o wide
  kubectl pinfi leases -A -o json
`)
    .action(async (names: string[], o: KubeOpts & OutputOpts & { rpcUrl?: string }) => {
      const kube = Kube.connect(o, io.env);
      const all = !!o.allNamespaces;
      let leases = await kube.list<ComputeLease>(COMPUTE_LEASES, all ? {} : { namespace: kube.namespace });
      if (names.length > 0) {
        const missing = names.filter((n) => !leases.some((l) => l.metadata?.name === n));
        const where = all ? '' : ` in namespace ${kube.namespace}`;
        if (missing.length === names.length) throw new CliError(`ComputeLease ${missing.join(', ')} not found${where}`, `list the leases with: kubectl pinfi leases${all ? ' -A' : ` -n ${kube.namespace}`}`);
        if (missing.length > 0) io.err(`warning: ComputeLease ${missing.join(', ')} not found${where}\n`);
        leases = leases.filter((l) => names.includes(l.metadata?.name ?? ''));
      }
      leases.sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
      const chain = await optionalChain(o.rpcUrl ?? io.env.rpcUrl, io);
      const tokens = new Tokens(chain?.provider);
      const poolTokens = new Map<string, string>();
      if (chain && leases.length > 0) {
        for (const p of await kube.list<GpuPool>(GPU_POOLS).catch(() => [])) poolTokens.set(p.metadata?.name ?? '', p.spec.pricing.token);
      }
      const nowMs = io.now();
      const rows = await Promise.all(leases.map(async (l) => leaseRow(l, nowMs, await tokens.info(poolTokens.get(l.spec.pool)))));
      chain?.provider.destroy();
      if (rows.length === 0 && names.length === 0 && (o.output === 'table' || o.output === 'wide')) {
        io.err(`No ComputeLeases found${all ? '' : ` in namespace ${kube.namespace}`}.\n`);
        return;
      }
      io.out(render(o.output, rows.map(jsonRow), (wide) => renderRows(rows, leaseColumns(all), wide)));
    });
  return cmd;
}
