// The settlement package's public API: what the lease controller, the CLI and the local market import.
// Everything else in this folder is an implementation detail.

export { ChainClient, type ChainClientOptions, type OpenResult, type SettleResult, type WithdrawResult } from './chain-client.js';
export {
  AUTHORIZATION_TYPES, ESCROW_DOMAIN_NAME, ESCROW_DOMAIN_VERSION, authorizationDigest, authorizationTypedData, escrowDomain,
  leaseIdOf, poolIdOf, recoverAuthorizationSigner, signAuthorization, type EscrowDomain, type TypedDataSigner,
} from './authorization.js';
export { deployEscrow, deployTestToken, type DeployEscrowOptions, type Deployed } from './deploy.js';
export {
  approveEscrow, escrowToken, mintTestTokens, readBalances, revokeAuthorization, signPermit, tokenInfo, withdraw,
  type Balances, type Sent,
} from './wallet.js';
export { loadSigner, type KeySource } from './keys.js';
export { ChainProvider, createProvider } from './provider.js';
export { defaultRetryPolicy, type RetryPolicy } from './rpc-retry.js';
export { formatAmount, parseAmount, type TokenInfo } from './money.js';
export type { BatchOptions } from './batcher.js';
export type { TxManagerOptions } from './tx-manager.js';
export {
  AllowanceTooLowError, AuthorizationError, BalanceTooLowError, ChainUnavailableError, EscrowPausedError, KeyInvalidError,
  LeaseConflictError, NotPermittedError, SettlementError, SettlementInvalidError, TransactionFailedError,
  type AuthorizationProblem, type LeaseConflict, type Retryable, type SettlementErrorCode,
} from './errors.js';
export {
  CloseReason, LeaseStatus,
  type AuthorizationTerms, type Clock, type LeaseIdentity, type LeaseOnChain, type Logger, type PermitSignature,
  type SettlementInstruction, type SignedAuthorization, type Sleep,
} from './types.js';
