// The flags several commands share, defined once: the cluster (like kubectl's), the output
// format, the chain, and the user's key.
import { Option, type Command } from 'commander';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';
import type { ChainFlags, KeyFlags } from './chain.js';
import type { KubeFlags } from './kube.js';

export function kubeOptions(cmd: Command, opts: { allNamespaces?: boolean } = {}): Command {
  cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current context)')
    .option('-n, --namespace <ns>', "namespace (default: the context's namespace, else default)");
  if (opts.allNamespaces) cmd.option('-A, --all-namespaces', 'across all namespaces');
  return cmd;
}

export function outputOption(cmd: Command, formats: readonly OutputFormat[] = OUTPUT_FORMATS): Command {
  return cmd.addOption(new Option('-o, --output <format>', 'output format').choices([...formats]).default('table'));
}

export function chainOptions(cmd: Command, opts: { escrow?: boolean; chainId?: boolean } = {}): Command {
  cmd.option('--rpc-url <url>', 'JSON-RPC URL of the settlement chain (default: $PINFI_RPC_URL)');
  if (opts.escrow !== false) cmd.option('--escrow <address>', "LeaseEscrow contract address, the operator's --escrow-address (default: $PINFI_ESCROW_ADDRESS)");
  if (opts.chainId) cmd.option('--chain-id <id>', 'chain id, to prepare a signature without reaching the chain');
  return cmd;
}

export function keyOptions(cmd: Command, whose: string): Command {
  return cmd
    .option('--key-file <file>', `file holding ${whose} private key (64 hex digits; mode 0600)`)
    .option('--keystore <file>', `encrypted JSON keystore (geth/clef/cast/MetaMask export) holding ${whose} key`)
    .option('--password-file <file>', 'file holding the keystore password (default: $PINFI_KEYSTORE_PASSWORD, else asked on the terminal)');
}

export type KubeOpts = KubeFlags & { allNamespaces?: boolean };
export type OutputOpts = { output: OutputFormat };
export type ChainOpts = ChainFlags;
export type KeyOpts = KeyFlags;
