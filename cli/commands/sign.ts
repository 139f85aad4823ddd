// `pinfi sign --lease NAME`: the payer's EIP-712 authorisation for one lease, stored as the Secret
// the operator reads. The lease is read from the cluster first (its uid is signed). Three ways:
//   --key-file / --keystore        the CLI signs with the payer's key (never printed);
//   --external                     prints the eth_signTypedData_v4 payload for any wallet;
//   --typed-data F --signature S   takes that wallet's signature back and makes the Secret.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { getAddress } from 'ethers';
import { parseDuration } from '../../operator/src/api/duration.js';
import { COMPUTE_LEASES, GPU_POOLS } from '../../operator/src/api/resources.js';
import type { ComputeLease, GpuPool } from '../../operator/src/api/types.js';
import { authorizationTypedData, escrowDomain, tokenInfo } from '../../operator/src/settlement/index.js';
import { needsToken, parseAmountArg } from '../amounts.js';
import {
  assertSignable, authorize, defaultDeadline, leaseTerms, normalizeSignature, parseTypedData, plain, printAuthorized, randomNonce, type Authorized,
} from '../authorization.js';
import { connectChain, escrowAddress, hasKey, keySourceText, loadKey } from '../chain.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { Kube } from '../kube.js';
import { chainOptions, keyOptions, kubeOptions, outputOption, type ChainOpts, type KeyOpts, type KubeOpts, type OutputOpts } from '../options.js';
import { render, renderData } from '../output.js';

type SignOpts = KubeOpts & OutputOpts & ChainOpts & KeyOpts & {
  lease: string;
  external?: boolean;
  typedDataOut?: string;
  typedData?: string;
  signature?: string;
  maxAmount?: string;
  validFor?: string;
  nonce?: string;
  overwrite?: boolean;
  dryRun?: boolean;
};

export function signCommand(io: Io): Command {
  const cmd = new Command('sign')
    .description("Sign the payer's EIP-712 authorisation for a lease and store it as the Secret the operator reads")
    .requiredOption('--lease <name>', 'the ComputeLease to authorise (read from the cluster: its uid is signed)')
    .option('--external', 'print the EIP-712 typed data (eth_signTypedData_v4) for another wallet to sign, instead of signing here')
    .option('--typed-data-out <file>', 'with --external: write the typed data to this file instead of standard output')
    .option('--typed-data <file>', 'the typed data --external printed, signed by the wallet (with --signature)')
    .option('--signature <hex|@file>', "the wallet's signature over --typed-data (0x…, or @file to read it from a file)")
    .option('--max-amount <amount>', "the most the escrow may take for this lease (default: the lease's maxPrice limit)")
    .option('--valid-for <duration>', 'how long the authorisation may be used (default: until an hour after the lease stops waiting for a price)')
    .option('--nonce <n>', 'authorisation nonce (default: random); a signed nonce can be revoked on-chain')
    .option('--overwrite', 'replace the Secret if it exists')
    .option('--dry-run', 'check and print the Secret (with -o yaml|json) without creating it');
  keyOptions(cmd, "the payer's");
  chainOptions(cmd, { chainId: true });
  kubeOptions(cmd);
  outputOption(cmd, ['table', 'json', 'yaml']);
  cmd
    .addHelpText('after', `
The Secret is named by the lease's spec.payer.authorizationSecretRef, labelled
pinfi.io/authorization=true and owned by the lease. The key is never printed or logged.

Examples:
  # sign with a key file or an encrypted keystore
  kubectl pinfi sign --lease train --key-file payer.key --rpc-url $RPC --escrow 0xEscrow
  kubectl pinfi sign --lease train --keystore payer.json --password-file pw.txt

  # a hardware wallet, MetaMask or cast: print the typed data, sign it there, hand back the signature
  kubectl pinfi sign --lease train --external --chain-id 31337 --escrow 0xEscrow --typed-data-out train.json
  cast wallet sign --ledger --data --from-file train.json
  kubectl pinfi sign --lease train --typed-data train.json --signature 0x…
`)
    .action(async (o: SignOpts) => {
      const modes = [hasKey(o), !!o.external, o.typedData !== undefined].filter(Boolean).length;
      if (modes !== 1) throw new CliError('say how to sign: --key-file/--keystore, --external, or --typed-data with --signature (one of them)', undefined, 2);
      if (o.typedData !== undefined && o.signature === undefined) throw new CliError('--typed-data needs --signature (the wallet\'s signature over it)', undefined, 2);
      if (o.typedData !== undefined && [o.maxAmount, o.validFor, o.nonce].some((v) => v !== undefined)) {
        throw new CliError('--max-amount, --valid-for and --nonce are fixed by the signed typed data', 'give them with --external, when the typed data is made', 2);
      }
      const kube = Kube.connect(o, io.env);
      const lease = await kube.need<ComputeLease>(COMPUTE_LEASES, o.lease, `list the leases with: kubectl pinfi leases -n ${kube.namespace}`);
      assertSignable(lease);
      const chainIdFlag = o.chainId !== undefined ? parseChainId(o.chainId) : undefined;
      const rpcUrl = o.rpcUrl ?? io.env.rpcUrl;
      // The chain: needed to sign here (its id), optional for the other flows (then checks and warnings use it).
      const chain = rpcUrl && !(o.external && chainIdFlag !== undefined) ? await connectChain(rpcUrl) : undefined;
      try {
        if (chain && chainIdFlag !== undefined && chain.chainId !== chainIdFlag) {
          throw new CliError(`--chain-id ${chainIdFlag} does not match the chain at ${chain.url} (id ${chain.chainId})`, 'leave out --chain-id, or use the right --rpc-url');
        }
        const token = chain ? await kube.get<GpuPool>(GPU_POOLS, lease.spec.pool).then((p) => (p ? tokenInfo(chain.provider, p.spec.pricing.token) : undefined)).catch(() => undefined) : undefined;
        if (o.maxAmount !== undefined && needsToken(o.maxAmount) && !token) throw new CliError('--max-amount names a token; give --rpc-url to read it, or base units', undefined, 2);
        const maxAmount = o.maxAmount !== undefined ? parseAmountArg(o.maxAmount, '--max-amount', token) : undefined;
        const nowSec = Math.floor(io.now() / 1000);
        const deadline = o.validFor !== undefined ? BigInt(nowSec + validFor(o.validFor)) : undefined;
        const nonce = o.nonce !== undefined ? parseNonce(o.nonce) : undefined;

        if (o.external) {
          const chainId = chain?.chainId ?? chainIdFlag;
          if (chainId === undefined) throw new CliError('which chain? its id is part of what is signed', 'pass --chain-id ID, or --rpc-url URL');
          const terms = leaseTerms(lease, { ...(maxAmount !== undefined ? { maxAmount } : {}), deadline: deadline ?? defaultDeadline(lease, nowSec), nonce: nonce ?? randomNonce() });
          const typed = authorizationTypedData(escrowDomain(chainId, escrowAddress(o.escrow, io)), terms);
          const json = `${JSON.stringify(typed, null, 2)}\n`;
          if (o.typedDataOut) writeFileSync(o.typedDataOut, json);
          else io.out(json);
          const file = o.typedDataOut ?? '<file>';
          io.err(`Sign this with the payer's wallet (${terms.payer}) as eth_signTypedData_v4, e.g. cast wallet sign --data --from-file ${file}\n`);
          io.err(`then: kubectl pinfi sign --lease ${terms.name} -n ${terms.namespace} --typed-data ${file} --signature 0x…\n`);
          return;
        }

        let done: Authorized;
        if (o.typedData !== undefined) {
          const text = readText(o.typedData, '--typed-data');
          const { domain, terms } = parseTypedData(text);
          if (chain && domain.chainId !== chain.chainId) throw new CliError(`the typed data is for chain ${domain.chainId}, but ${chain.url} is chain ${chain.chainId}`);
          if (chainIdFlag !== undefined && domain.chainId !== chainIdFlag) throw new CliError(`the typed data is for chain ${domain.chainId}, not --chain-id ${chainIdFlag}`);
          const escrow = o.escrow ?? io.env.escrow ?? domain.verifyingContract;
          if (getAddress(escrow) !== domain.verifyingContract) throw new CliError(`the typed data is for escrow ${domain.verifyingContract}, not ${getAddress(escrow)}`, 'sign typed data made for this escrow (sign --external)');
          const sigText = (o.signature ?? '').startsWith('@') ? readText((o.signature ?? '').slice(1), '--signature') : o.signature ?? '';
          done = await authorize(kube, io, {
            lease, signed: { terms, signature: normalizeSignature(sigText) }, ...(chain ? { chain } : {}), escrowFlag: domain.verifyingContract, chainId: domain.chainId,
            overwrite: !!o.overwrite, dryRun: !!o.dryRun,
          });
        } else {
          const signer = await loadKey(o, io);
          if (!chain && chainIdFlag === undefined) throw new CliError(`which chain? its id is part of what ${keySourceText(o)} signs`, 'pass --rpc-url URL (or set PINFI_RPC_URL), or --chain-id ID');
          done = await authorize(kube, io, {
            lease, signer, ...(chain ? { chain } : {}), ...(chainIdFlag !== undefined ? { chainId: chainIdFlag } : {}), escrowFlag: o.escrow,
            ...(maxAmount !== undefined ? { maxAmount } : {}), ...(deadline !== undefined ? { deadline } : {}), ...(nonce !== undefined ? { nonce } : {}),
            overwrite: !!o.overwrite, dryRun: !!o.dryRun,
          });
        }
        if (o.dryRun && o.output !== 'table') {
          // The Secret as it would be written (the signature is public once used on-chain; no key is in it).
          io.out(renderData(o.output === 'json' ? 'json' : 'yaml', done.manifest));
          return;
        }
        if (o.output === 'table') printAuthorized(io, done, true);
        else {
          io.out(render(o.output, plain(done), () => ''));
          for (const w of done.warnings) io.err(`warning: ${w}\n`);
        }
      } finally {
        chain?.provider.destroy();
      }
    });
  return cmd;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
}

function parseChainId(v: string): bigint {
  if (!/^[1-9][0-9]{0,18}$/.test(v)) throw new CliError(`--chain-id "${v}" is not a chain id`, 'e.g. 1 (Ethereum), 8453 (Base), 31337 (a local anvil)', 2);
  return BigInt(v);
}

function parseNonce(v: string): bigint {
  if (!/^[0-9]{1,78}$/.test(v)) throw new CliError(`--nonce "${v}" is not a whole number`, undefined, 2);
  return BigInt(v);
}

function validFor(v: string): number {
  const s = parseDuration(v);
  if (s === undefined || s <= 0) throw new CliError(`--valid-for "${v}" is not a duration`, 'e.g. 2h or 30m', 2);
  return s;
}
