// What every command gets from the edge: where to write, the time, the environment read once at
// start-up, and how to ask for a password. Tests pass their own; main.ts passes the process's.
import { delimiter } from 'node:path';

/** The environment variables the CLI reads, parsed once (no module reads process.env itself). */
export type CliEnv = Readonly<{
  /** $KUBECONFIG split into files (kubectl merges them, first file wins). */
  kubeconfigs: readonly string[];
  home: string | undefined;
  /** $PINFI_RPC_URL: the settlement chain's JSON-RPC URL. */
  rpcUrl: string | undefined;
  /** $PINFI_ESCROW_ADDRESS: the LeaseEscrow contract (the operator's --escrow-address). */
  escrow: string | undefined;
  /** $PINFI_KEYSTORE_PASSWORD: the password of an encrypted JSON keystore. Never printed. */
  keystorePassword: string | undefined;
  /** $PINFI_OPERATOR_URL: the operator's HTTP address, for `quote --operator-url`. */
  operatorUrl: string | undefined;
}>;

export function readEnv(env: NodeJS.ProcessEnv): CliEnv {
  const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  return Object.freeze({
    kubeconfigs: Object.freeze((env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '')),
    home: nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE),
    rpcUrl: nonEmpty(env.PINFI_RPC_URL),
    escrow: nonEmpty(env.PINFI_ESCROW_ADDRESS),
    keystorePassword: env.PINFI_KEYSTORE_PASSWORD,
    operatorUrl: nonEmpty(env.PINFI_OPERATOR_URL),
  });
}

export type Io = Readonly<{
  /** Standard output: the result (a table, JSON, YAML or a manifest). */
  out: (text: string) => void;
  /** Standard error: progress, warnings, next steps, errors. */
  err: (text: string) => void;
  /** Milliseconds since the epoch. */
  now: () => number;
  env: CliEnv;
  /** Asks for a secret on the terminal without echoing it; undefined when there is no terminal. */
  promptSecret: ((question: string) => Promise<string>) | undefined;
}>;

/** `text` with exactly one trailing newline. */
export function line(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
