// Typed errors a caller can act on. A revert from LeaseEscrow is decoded (from the compiled ABI, through the
// generated interface) into one of these, with a message that says what to do. Messages carry addresses, amounts
// and transaction hashes, never keys; `cause` keeps the underlying error for logs.
import { LeaseEscrow__factory } from './generated/index.js';
import { formatAmount, type TokenInfo } from './money.js';

export const SettlementErrorCode = {
  AllowanceTooLow: 'AllowanceTooLow',
  BalanceTooLow: 'BalanceTooLow',
  AuthorizationInvalid: 'AuthorizationInvalid',
  LeaseConflict: 'LeaseConflict',
  SettlementInvalid: 'SettlementInvalid',
  NotPermitted: 'NotPermitted',
  Paused: 'Paused',
  ChainUnavailable: 'ChainUnavailable',
  TransactionFailed: 'TransactionFailed',
  KeyInvalid: 'KeyInvalid',
} as const;
export type SettlementErrorCode = keyof typeof SettlementErrorCode;

/** Whether retrying the same call later can succeed without anyone changing anything. */
export type Retryable = 'retry' | 'fix-input' | 'payer-action' | 'admin-action';

export class SettlementError extends Error {
  override readonly name: string = 'SettlementError';
  constructor(
    readonly code: SettlementErrorCode,
    message: string,
    readonly retryable: Retryable,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class AllowanceTooLowError extends SettlementError {
  override readonly name = 'AllowanceTooLowError';
  constructor(readonly payer: string, readonly allowance: bigint, readonly required: bigint, token: TokenInfo, escrow: string, options?: { cause?: unknown }) {
    super('AllowanceTooLow', `allowance too low: approve ${formatAmount(required, token)} to ${escrow} (payer ${payer} has approved ${formatAmount(allowance, token)})`, 'payer-action', options);
  }
}

export class BalanceTooLowError extends SettlementError {
  override readonly name = 'BalanceTooLowError';
  constructor(readonly payer: string, readonly balance: bigint, readonly required: bigint, token: TokenInfo, options?: { cause?: unknown }) {
    super('BalanceTooLow', `balance too low: payer ${payer} holds ${formatAmount(balance, token)}, the lease needs ${formatAmount(required, token)}`, 'payer-action', options);
  }
}

export const AuthorizationProblem = {
  Expired: 'Expired',
  InvalidSigner: 'InvalidSigner',
  NonceUsed: 'NonceUsed',
  AmountExceedsMaximum: 'AmountExceedsMaximum',
  InvalidLeaseIdentity: 'InvalidLeaseIdentity',
  AmountInvalid: 'AmountInvalid',
} as const;
export type AuthorizationProblem = keyof typeof AuthorizationProblem;

/** The payer's authorisation cannot be used: the payer must sign a new one. */
export class AuthorizationError extends SettlementError {
  override readonly name = 'AuthorizationError';
  constructor(readonly problem: AuthorizationProblem, message: string, options?: { cause?: unknown }) {
    super('AuthorizationInvalid', message, 'payer-action', options);
  }
}

export const LeaseConflict = { NotFound: 'NotFound', AlreadySettled: 'AlreadySettled', Exists: 'Exists' } as const;
export type LeaseConflict = keyof typeof LeaseConflict;

export class LeaseConflictError extends SettlementError {
  override readonly name = 'LeaseConflictError';
  constructor(readonly conflict: LeaseConflict, readonly leaseId: string, message: string, options?: { cause?: unknown }) {
    super('LeaseConflict', message, 'fix-input', options);
  }
}

/** The settlement's amounts are wrong (they must add up to the locked amount exactly). */
export class SettlementInvalidError extends SettlementError {
  override readonly name = 'SettlementInvalidError';
  constructor(readonly leaseId: string | undefined, message: string, options?: { cause?: unknown }) {
    super('SettlementInvalid', message, 'fix-input', options);
  }
}

export class NotPermittedError extends SettlementError {
  override readonly name = 'NotPermittedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('NotPermitted', message, 'admin-action', options);
  }
}

export class EscrowPausedError extends SettlementError {
  override readonly name = 'EscrowPausedError';
  constructor(escrow: string, options?: { cause?: unknown }) {
    super('Paused', `escrow ${escrow} is paused by its admin: opening and settling wait until it is unpaused (withdrawals still work)`, 'retry', options);
  }
}

/** The RPC endpoint did not answer within the retry budget. Retrying later is safe (every operation is idempotent). */
export class ChainUnavailableError extends SettlementError {
  override readonly name = 'ChainUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ChainUnavailable', message, 'retry', options);
  }
}

/** A revert or node answer not covered above (the raw revert data is kept for diagnosis). A revert with unknown
 * data will fail again ('fix-input'); anything else (an unclassified node answer) is worth retrying. */
export class TransactionFailedError extends SettlementError {
  override readonly name = 'TransactionFailedError';
  constructor(message: string, readonly revertData?: string, options?: { cause?: unknown; retryable?: Retryable }) {
    super('TransactionFailed', message, options?.retryable ?? 'fix-input', options);
  }
}

export class KeyInvalidError extends SettlementError {
  override readonly name = 'KeyInvalidError';
  constructor(message: string) {
    super('KeyInvalid', message, 'admin-action');
  }
}

/** Raw revert data carried by an ethers error or a JSON-RPC error, if any. */
export function revertDataOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): string | undefined => {
    if (!e || typeof e !== 'object' || seen.has(e)) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === 'string' && /^0x[0-9a-fA-F]{8}/.test(o.data)) return o.data;
    return visit(o.revertData) ?? visit(o.error) ?? visit(o.info) ?? visit(o.cause) ?? visit(o.data);
  };
  if (typeof err === 'string' && /^0x[0-9a-fA-F]{8}/.test(err)) return err;
  return visit(err);
}

const escrowInterface = LeaseEscrow__factory.createInterface();

export type DecodeContext = { readonly token: TokenInfo; readonly escrow: string; readonly account: string };

/** Turns LeaseEscrow revert data into a typed error, or undefined when the data is not one of its errors. */
export function decodeEscrowRevert(data: string, ctx: DecodeContext, cause?: unknown): SettlementError | undefined {
  let parsed;
  try {
    parsed = escrowInterface.parseError(data);
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  const a = parsed.args;
  const o = { cause };
  const amount = (v: unknown): string => formatAmount(v as bigint, ctx.token);
  switch (parsed.name) {
    case 'LeaseEscrow_AllowanceTooLow':
      return new AllowanceTooLowError(a[0] as string, a[1] as bigint, a[2] as bigint, ctx.token, ctx.escrow, o);
    case 'LeaseEscrow_BalanceTooLow':
      return new BalanceTooLowError(a[0] as string, a[1] as bigint, a[2] as bigint, ctx.token, o);
    case 'LeaseEscrow_AuthorizationExpired':
      return new AuthorizationError('Expired', `authorisation expired at ${new Date(Number(a[0]) * 1000).toISOString()} (chain time ${new Date(Number(a[1]) * 1000).toISOString()}): the payer must sign a new one`, o);
    case 'LeaseEscrow_InvalidSigner':
      return new AuthorizationError('InvalidSigner', `authorisation was not signed by payer ${a[0]} for these terms on this chain and escrow (it recovers to ${a[1]}): the payer must sign exactly these terms`, o);
    case 'LeaseEscrow_NonceUsed':
      return new AuthorizationError('NonceUsed', `payer ${a[0]} already used or revoked authorisation nonce ${a[1]}: sign a new authorisation with an unused nonce`, o);
    case 'LeaseEscrow_AmountExceedsAuthorization':
      return new AuthorizationError('AmountExceedsMaximum', `the lease costs ${amount(a[0])} but the payer authorised at most ${amount(a[1])}: raise the maximum and sign again`, o);
    case 'LeaseEscrow_InvalidLeaseIdentity':
      return new AuthorizationError('InvalidLeaseIdentity', 'the lease namespace, name and uid must all be non-empty', o);
    case 'LeaseEscrow_ZeroAmount':
      return new AuthorizationError('AmountInvalid', 'a lease cannot lock 0', o);
    case 'LeaseEscrow_AmountTooLarge':
      return new AuthorizationError('AmountInvalid', `amount ${amount(a[0])} exceeds the escrow's per-lease limit ${amount(a[1])}`, o);
    case 'LeaseEscrow_LeaseExists':
      return new LeaseConflictError('Exists', a[0] as string, `lease ${a[0]} is already open on-chain`, o);
    case 'LeaseEscrow_LeaseNotFound':
      return new LeaseConflictError('NotFound', a[0] as string, `lease ${a[0]} was never opened on-chain: nothing to settle`, o);
    case 'LeaseEscrow_LeaseAlreadySettled':
      return new LeaseConflictError('AlreadySettled', a[0] as string, `lease ${a[0]} is already settled`, o);
    case 'LeaseEscrow_SettlementMismatch':
      return new SettlementInvalidError(a[0] as string, `settlement of lease ${a[0]} credits ${amount(a[1])} but ${amount(a[2])} is locked: providers + fee + refund must equal the locked amount exactly`, o);
    case 'LeaseEscrow_LengthMismatch':
      return new SettlementInvalidError(undefined, `settlement has ${a[0]} providers but ${a[1]} amounts`, o);
    case 'LeaseEscrow_ZeroAddress':
      return new SettlementInvalidError(undefined, 'an address (payer, provider or treasury) is the zero address', o);
    case 'LeaseEscrow_EmptyBatch':
      return new SettlementInvalidError(undefined, 'settleMany was called with no settlements', o);
    case 'LeaseEscrow_NothingToWithdraw':
      return new SettlementInvalidError(undefined, `${a[0]} has nothing to withdraw`, o);
    case 'LeaseEscrow_Insolvent':
      return new TransactionFailedError(`escrow would hold ${amount(a[0])} but owes ${amount(a[1])}: the token takes a fee on transfer or is broken`, data, o);
    case 'AccessControlUnauthorizedAccount':
      return new NotPermittedError(`${a[0]} lacks role ${a[1]} on escrow ${ctx.escrow}: the escrow admin must grant it (grantRole)`, o);
    case 'EnforcedPause':
      return new EscrowPausedError(ctx.escrow, o);
    case 'ReentrancyGuardReentrantCall':
      return new TransactionFailedError('re-entrant call refused by the escrow (a token called back into it)', data, o);
    case 'SafeERC20FailedOperation':
      return new TransactionFailedError(`token ${a[0]} refused the transfer`, data, o);
    default:
      return new TransactionFailedError(`escrow reverted with ${parsed.signature}`, data, o);
  }
}
