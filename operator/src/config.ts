// The operator's configuration: parsed once at start-up from flags and environment into a typed,
// frozen object. No module reads process.env after this.
import { Command } from 'commander';
import { logLevel as level, wholeNumber } from './flags.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { LogLevel } from './telemetry/logger.js';

export type OperatorConfig = Readonly<{
  kubeconfig: string | undefined;
  context: string | undefined;
  /** Namespace of the leader-election Lease (the operator's own namespace). */
  namespace: string;
  httpHost: string;
  httpPort: number;
  leaderElect: boolean;
  leaseName: string;
  identity: string;
  priceRefreshMs: number;
  logLevel: LogLevel;
  poolWorkers: number;
  leaseWorkers: number;
  /** Settlement chain; undefined when not configured (leases then wait with a condition). */
  chain:
    | Readonly<{
        rpcUrl: string;
        chainId: number;
        escrowAddress: string;
        /** Where the settler key comes from: a file (a mounted Secret) or an environment variable. */
        key: { file: string } | { env: string };
        confirmations: number;
        /** How long one chain call retries an unreachable endpoint before giving up for now. */
        rpcRetryBudgetMs: number;
        batchWindowMs: number;
        batchMaxSize: number;
      }>
    | undefined;
  /** Pods of an ended lease get this long before eviction. */
  graceSeconds: number;
  /** How long a PodDisruptionBudget may refuse an ended lease's pod eviction before the pod is deleted. */
  evictionTimeoutSeconds: number;
  /** Run the enforcement controllers (pool taints, scheduling gates, lease-end eviction). */
  enforce: boolean;
}>;

const int = wholeNumber;

export function operatorCommand(): Command {
  return new Command('pinfi-operator')
    .description('The PinFi operator: prices GpuPools with an automated market maker and runs ComputeLeases.')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster service account, or $KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context')
    .option('--namespace <ns>', 'namespace of the leader-election Lease (default: $POD_NAMESPACE or pinfi-system)')
    .option('--http-host <host>', 'address for /metrics, /healthz, /readyz and /quote', '0.0.0.0')
    .option('--http-port <port>', 'port for the HTTP surface', int(0, 65535), 8080)
    .option('--no-leader-elect', 'run without leader election (one replica only)')
    .option('--lease-name <name>', 'leader-election Lease name', 'pinfi-operator')
    .option('--identity <id>', 'leader-election identity (default: hostname + random suffix)')
    .option('--price-refresh <seconds>', 'longest time a pool price drift goes unwritten to status', int(1, 86400), 60)
    .option('--pool-workers <n>', 'concurrent pool reconciles', int(1, 64), 2)
    .option('--lease-workers <n>', 'concurrent lease reconciles', int(1, 256), 8)
    .option('--rpc-url <url>', 'JSON-RPC URL of the settlement chain (or $PINFI_RPC_URL)')
    .option('--chain-id <id>', 'chain id of the settlement chain', int(1, 2 ** 31), 31337)
    .option('--escrow-address <addr>', 'LeaseEscrow contract address (or $PINFI_ESCROW_ADDRESS)')
    .option('--settler-key-file <file>', 'file holding the settler private key (a mounted Secret); default: $PINFI_SETTLER_KEY')
    .option('--confirmations <n>', 'confirmations to wait for', int(1, 64), 1)
    .option('--rpc-retry-budget <seconds>', 'how long one chain call retries an unreachable RPC endpoint before the lease reports ChainAvailable=False and is retried later', int(1, 3600), 120)
    .option('--settle-batch-window <ms>', 'settlements due within this window go out as one settleMany', int(0, 600_000), 2000)
    .option('--settle-batch-max <n>', 'most settlements in one settleMany', int(1, 500), 50)
    .option('--grace <seconds>', 'how long pods of an ended lease may run before eviction', int(0, 86_400), 30)
    .option('--eviction-timeout <seconds>', 'how long a PodDisruptionBudget may block an ended lease\'s pod eviction before the pod is deleted', int(0, 86_400), 300)
    .option('--no-enforce', 'do not taint pool nodes, gate lease pods or evict ended leases\' pods (pricing and settlement only)')
    .option('--log-level <level>', 'debug, info, warn or error', level, 'info');
}

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const cmd = operatorCommand().exitOverride();
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<{
    kubeconfig?: string;
    context?: string;
    namespace?: string;
    httpHost: string;
    httpPort: number;
    leaderElect: boolean;
    leaseName: string;
    identity?: string;
    priceRefresh: number;
    poolWorkers: number;
    leaseWorkers: number;
    logLevel: LogLevel;
    rpcUrl?: string;
    chainId: number;
    escrowAddress?: string;
    settlerKeyFile?: string;
    confirmations: number;
    rpcRetryBudget: number;
    settleBatchWindow: number;
    settleBatchMax: number;
    grace: number;
    evictionTimeout: number;
    enforce: boolean;
  }>();
  const rpcUrl = o.rpcUrl ?? env.PINFI_RPC_URL;
  const escrowAddress = o.escrowAddress ?? env.PINFI_ESCROW_ADDRESS;
  if (escrowAddress !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(escrowAddress)) throw new Error(`--escrow-address: ${escrowAddress} is not an address`);
  if ((rpcUrl === undefined) !== (escrowAddress === undefined)) throw new Error('set both --rpc-url and --escrow-address, or neither');
  return Object.freeze({
    kubeconfig: o.kubeconfig ?? (env.KUBERNETES_SERVICE_HOST ? undefined : env.KUBECONFIG),
    context: o.context,
    namespace: o.namespace ?? env.POD_NAMESPACE ?? 'pinfi-system',
    httpHost: o.httpHost,
    httpPort: o.httpPort,
    leaderElect: o.leaderElect,
    leaseName: o.leaseName,
    identity: o.identity ?? `${env.POD_NAME ?? hostname()}_${randomUUID().slice(0, 8)}`,
    priceRefreshMs: o.priceRefresh * 1000,
    logLevel: o.logLevel,
    poolWorkers: o.poolWorkers,
    leaseWorkers: o.leaseWorkers,
    chain:
      rpcUrl && escrowAddress
        ? Object.freeze({
            rpcUrl,
            chainId: o.chainId,
            escrowAddress,
            key: o.settlerKeyFile ? { file: o.settlerKeyFile } : { env: 'PINFI_SETTLER_KEY' },
            confirmations: o.confirmations,
            rpcRetryBudgetMs: o.rpcRetryBudget * 1000,
            batchWindowMs: o.settleBatchWindow,
            batchMaxSize: o.settleBatchMax,
          })
        : undefined,
    graceSeconds: o.grace,
    evictionTimeoutSeconds: o.evictionTimeout,
    enforce: o.enforce,
  });
}
