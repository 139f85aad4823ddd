// `pinfi lease NAME`: a ComputeLease from flags. With --dry-run it prints the manifest; without,
// it creates the lease (and, given the payer's key, signs its authorisation right away).
import { Command, Option } from 'commander';
import { COMPUTE_LEASES, GPU_POOLS } from '../../operator/src/api/resources.js';
import { API_VERSION, type ComputeLease, type GpuPool } from '../../operator/src/api/types.js';
import { tokenInfo, type TokenInfo } from '../../operator/src/settlement/index.js';
import { needsToken, parseAmountArg, parsePercent, showAmount, withSlippage } from '../amounts.js';
import { durationText, leaseSeconds, parseGpus, parseInstant, parseName } from '../args.js';
import { connectChain, hasKey, keySourceText, loadKey, optionalChain, parseAddress, type Chain } from '../chain.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { Kube } from '../kube.js';
import { chainOptions, keyOptions, kubeOptions, outputOption, type ChainOpts, type KeyOpts, type KubeOpts, type OutputOpts } from '../options.js';
import { render, renderData } from '../output.js';
import { localQuote, poolRefusal } from './quote.js';
import { authorize, printAuthorized } from '../authorization.js';

export type LeaseInput = {
  name: string;
  namespace: string;
  pool: string;
  gpus: number;
  seconds: number;
  maxPrice: { total: bigint } | { perGpuHour: bigint };
  payer: string;
  deadline?: string;
  authSecret: string;
  preemptible?: boolean;
};

/** The ComputeLease manifest (pure). */
export function leaseManifest(i: LeaseInput): ComputeLease {
  return {
    apiVersion: API_VERSION,
    kind: 'ComputeLease',
    metadata: { name: i.name, namespace: i.namespace },
    spec: {
      pool: i.pool,
      gpus: i.gpus,
      duration: durationText(i.seconds),
      maxPrice: 'total' in i.maxPrice ? { total: i.maxPrice.total.toString() } : { perGpuHour: i.maxPrice.perGpuHour.toString() },
      ...(i.deadline ? { deadline: i.deadline } : {}),
      ...(i.preemptible ? { preemptible: true } : {}),
      payer: { address: i.payer, authorizationSecretRef: { name: i.authSecret } },
    },
  };
}

type LeaseOpts = KubeOpts & OutputOpts & ChainOpts & KeyOpts & {
  pool: string;
  gpus: string;
  hours?: string;
  duration?: string;
  maxTotal?: string;
  maxPerGpuHour?: string;
  slippage: string;
  payer?: string;
  deadline?: string;
  authSecret?: string;
  preemptible?: boolean;
  dryRun?: 'client' | 'server';
};

export function leaseCommand(io: Io): Command {
  const cmd = new Command('lease')
    .description('Create a ComputeLease: N GPUs from a pool for a duration, at most a price (prints the manifest with --dry-run)')
    .argument('<name>', 'name of the ComputeLease')
    .requiredOption('--pool <name>', 'GpuPool to lease from')
    .requiredOption('--gpus <n>', 'number of GPUs')
    .option('--hours <h>', 'lease length in hours (decimals allowed)')
    .option('--duration <d>', 'lease length as a duration: 6h, 90m, 1h30m')
    .option('--max-total <amount>', 'the most the whole lease may cost (base units, or e.g. 25tUSD)')
    .option('--max-per-gpu-hour <amount>', 'the most per GPU-hour (base units, or e.g. 1.5tUSD)')
    .option('--slippage <percent>', 'without a --max-*: maxPrice.total is the quote now plus this much', '10%')
    .option('--payer <address>', "the payer's address (default: the address of --key-file/--keystore)")
    .option('--deadline <time>', 'how long the lease may wait for an acceptable price: a duration from now (2h) or a time (RFC 3339); default 1h after creation')
    .option('--preemptible', 'while the price is above the limit, run on idle GPUs at the floor until a priced lease needs them (pools with leases.lendIdleGpus; the job should checkpoint)')
    .option('--auth-secret <name>', "name of the Secret for the payer's authorisation (default: <name>-auth)")
    .addOption(new Option('--dry-run [mode]', 'client: print the manifest only; server: also have the API server validate it').choices(['client', 'server']).preset('client'));
  kubeOptions(cmd);
  outputOption(cmd, ['table', 'json', 'yaml']);
  chainOptions(cmd);
  keyOptions(cmd, "the payer's (optional: signs the authorisation right after creating the lease)");
  cmd
    .addHelpText('after', `
Without --max-total or --max-per-gpu-hour, the limit is today's quote plus --slippage: above it
the lease waits (a limit order) until the price falls or its deadline passes. The lease then
needs the payer's signed authorisation (kubectl pinfi sign) and an ERC-20 allowance for the
escrow (kubectl pinfi approve) before the operator funds and starts it.

Examples:
  kubectl pinfi lease train --pool a100 --gpus 4 --hours 6 --payer 0xYourAddress --dry-run
  kubectl pinfi lease train --pool a100 --gpus 4 --hours 6 --payer 0xYourAddress --max-total 30tUSD --rpc-url $RPC
  kubectl pinfi lease train --pool a100 --gpus 4 --duration 90m --key-file payer.key --escrow 0xEscrow --rpc-url $RPC
  kubectl pinfi lease sweep --pool t4 --gpus 4 --hours 6 --max-per-gpu-hour 0.4tUSD --preemptible --key-file payer.key --rpc-url $RPC
`)
    .action(async (nameArg: string, o: LeaseOpts) => {
      const name = parseName(nameArg, 'lease name');
      const gpus = parseGpus(o.gpus);
      const seconds = leaseSeconds(o);
      if (o.maxTotal !== undefined && o.maxPerGpuHour !== undefined) throw new CliError('give --max-total or --max-per-gpu-hour, not both', undefined, 2);
      const kube = Kube.connect(o, io.env);
      const pool = await kube.need<GpuPool>(GPU_POOLS, o.pool, 'list the pools with: kubectl pinfi pools');
      const refusal = poolRefusal(pool, kube.namespace, gpus, seconds);
      if (refusal) throw new CliError(`pool ${o.pool} would refuse this lease: ${refusal}`, 'change --gpus / --hours, the namespace, or the pool');
      if (o.preemptible && !pool.spec.leases?.lendIdleGpus) io.err(`note: pool ${o.pool} does not lend idle GPUs (spec.leases.lendIdleGpus), so --preemptible changes nothing there: the lease waits for its price\n`);

      const signing = hasKey(o) && !o.dryRun;
      const needChain = signing || [o.maxTotal, o.maxPerGpuHour].some((a) => a !== undefined && needsToken(a));
      // The chain: required to sign or to read amounts in tokens; else only for showing tokens, if known.
      const chain: Chain | undefined = needChain ? await connectChain(o.rpcUrl ?? io.env.rpcUrl) : await optionalChain(o.rpcUrl ?? io.env.rpcUrl, io);
      try {
        const token: TokenInfo | undefined = chain ? await tokenInfo(chain.provider, pool.spec.pricing.token) : undefined;
        let maxPrice: LeaseInput['maxPrice'];
        if (o.maxTotal !== undefined) maxPrice = { total: parseAmountArg(o.maxTotal, '--max-total', token) };
        else if (o.maxPerGpuHour !== undefined) maxPrice = { perGpuHour: parseAmountArg(o.maxPerGpuHour, '--max-per-gpu-hour', token) };
        else {
          const bps = parsePercent(o.slippage, '--slippage');
          let q;
          try {
            q = localQuote(pool, gpus, seconds, io.now());
          } catch (err) {
            throw new CliError(`cannot set a limit from a quote: ${(err as Error).message}`, 'give the limit yourself with --max-total or --max-per-gpu-hour (the lease then waits for it)');
          }
          maxPrice = { total: withSlippage(q.total, bps) };
          io.err(`maxPrice.total ${showAmount(maxPrice.total, token)}: the quote now (${showAmount(q.total, token)}) plus ${o.slippage} (--max-total sets it yourself)\n`);
        }
        if ((('total' in maxPrice && maxPrice.total) || ('perGpuHour' in maxPrice && maxPrice.perGpuHour)) === 0n) throw new CliError('the price limit must be above 0', undefined, 2);

        const keyWallet = hasKey(o) ? await loadKey(o, io, chain?.provider) : undefined;
        const payer = o.payer !== undefined ? parseAddress(o.payer, '--payer') : keyWallet?.address;
        if (!payer) throw new CliError('who pays? no payer given', 'pass --payer ADDRESS, or the payer\'s --key-file / --keystore');
        if (keyWallet && payer.toLowerCase() !== keyWallet.address.toLowerCase()) {
          throw new CliError(`--payer ${payer} is not the address of ${keySourceText(o)} (${keyWallet.address})`, 'leave out --payer, or use the payer\'s key');
        }
        const manifest = leaseManifest({
          name, namespace: kube.namespace, pool: o.pool, gpus, seconds, maxPrice, payer,
          ...(o.deadline !== undefined ? { deadline: parseInstant(o.deadline, io.now(), '--deadline') } : {}),
          authSecret: o.authSecret !== undefined ? parseName(o.authSecret, '--auth-secret') : `${name}-auth`,
          ...(o.preemptible ? { preemptible: true } : {}),
        });
        if (o.dryRun === 'client') {
          io.out(renderData(o.output === 'json' ? 'json' : 'yaml', manifest));
          return;
        }
        if (o.dryRun === 'server') {
          const checked = await kube.create<ComputeLease>(COMPUTE_LEASES, manifest, { dryRun: true });
          const { managedFields: _m, ...metadata } = (checked.metadata ?? {}) as Record<string, unknown>;
          io.out(renderData(o.output === 'json' ? 'json' : 'yaml', { ...checked, metadata }));
          return;
        }
        const created = await kube.create<ComputeLease>(COMPUTE_LEASES, manifest);
        io.out(render(o.output, created, () => `computelease.pinfi.io/${name} created\n`));
        if (keyWallet && chain) {
          const done = await authorize(kube, io, { lease: created, chain, escrowFlag: o.escrow, signer: keyWallet });
          printAuthorized(io, done, o.output === 'table' || o.output === 'wide');
        } else {
          io.err(`next: kubectl pinfi sign --lease ${name} -n ${kube.namespace} --key-file <payer key>   (the payer's authorisation)\n`);
        }
      } finally {
        chain?.provider.destroy();
      }
    });
  return cmd;
}
