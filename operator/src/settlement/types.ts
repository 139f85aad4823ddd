// The settlement vocabulary shared by the chain client, the lease controller and the CLI. Money is always a bigint
// in the payment token's base units (a 6-decimal stablecoin: 12.5 USDC = 12_500_000n).

/** Why a lease closed; the numeric values are the contract's `CloseReason` enum. */
export const CloseReason = {
  Completed: 0,
  Cancelled: 1,
  ProviderFailure: 2,
  FundingFailed: 3,
  Expired: 4,
} as const;
export type CloseReason = keyof typeof CloseReason;

/** A lease's on-chain status; the numeric values are the contract's `LeaseStatus` enum. */
export const LeaseStatus = { None: 0, Open: 1, Settled: 2 } as const;
export type LeaseStatus = keyof typeof LeaseStatus;

export function closeReasonName(value: bigint | number): CloseReason {
  const name = (Object.keys(CloseReason) as CloseReason[]).find((k) => CloseReason[k] === Number(value));
  if (!name) throw new Error(`unknown close reason ${value}`);
  return name;
}

export function leaseStatusName(value: bigint | number): LeaseStatus {
  const name = (Object.keys(LeaseStatus) as LeaseStatus[]).find((k) => LeaseStatus[k] === Number(value));
  if (!name) throw new Error(`unknown lease status ${value}`);
  return name;
}

/** A ComputeLease's identity in Kubernetes; the on-chain lease id is derived from it. */
export type LeaseIdentity = {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
};

/** What a payer authorises (the EIP-712 `LeaseAuthorization` message). */
export type AuthorizationTerms = LeaseIdentity & {
  readonly payer: string;
  /** The GpuPool's name; the fee goes to that pool's treasury. */
  readonly pool: string;
  /** The most the escrow may pull for this lease, in base units. */
  readonly maxAmount: bigint;
  /** Unix seconds after which the authorisation can no longer be used. */
  readonly deadline: bigint;
  /** Any unused number; a payer may sign several authorisations with different nonces and revoke one. */
  readonly nonce: bigint;
};

/** An authorisation with the payer's signature over it. */
export type SignedAuthorization = {
  readonly terms: AuthorizationTerms;
  readonly signature: string;
};

/** An EIP-2612 permit the payer signed on the token for the escrow (split signature). */
export type PermitSignature = {
  readonly value: bigint;
  readonly deadline: bigint;
  readonly v: number;
  readonly r: string;
  readonly s: string;
};

/** How a lease's locked amount is split when it closes. Credits must add up to the locked amount. */
export type SettlementInstruction = {
  readonly leaseId: string;
  readonly providers: readonly { readonly address: string; readonly amount: bigint }[];
  readonly fee: bigint;
  readonly refund: bigint;
  readonly reason: CloseReason;
};

/** A lease as the contract stores it. After settlement `locked` and `treasury` read 0 (see the contract). */
export type LeaseOnChain = {
  readonly leaseId: string;
  readonly status: LeaseStatus;
  /** Meaningful once status is Settled. */
  readonly reason: CloseReason;
  readonly payer: string;
  readonly openedAt: bigint;
  readonly locked: bigint;
  readonly treasury: string;
};

export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
};

/** Milliseconds since the epoch. */
export type Clock = () => number;
export type Sleep = (ms: number) => Promise<void>;

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
export const realClock: Clock = () => Date.now();
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
