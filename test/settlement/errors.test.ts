// Every custom error of the escrow decodes into a typed error with a message a user can act on.
import { LeaseEscrow__factory } from '../../operator/src/settlement/generated/index.js';
import {
  AllowanceTooLowError, AuthorizationError, BalanceTooLowError, EscrowPausedError, LeaseConflictError, NotPermittedError,
  SettlementInvalidError, TransactionFailedError, decodeEscrowRevert, revertDataOf,
} from '../../operator/src/settlement/errors.js';

const iface = LeaseEscrow__factory.createInterface();
const ctx = { token: { address: '0x0000000000000000000000000000000000000001', symbol: 'USDC', decimals: 6 }, escrow: '0x00000000000000000000000000000000000000E5', account: '0x00000000000000000000000000000000000000AA' };
const A = '0x00000000000000000000000000000000000000AA';
const ID = `0x${'11'.repeat(32)}`;

test.each([
  { error: 'LeaseEscrow_AllowanceTooLow', args: [A, 2_000_000n, 12_500_000n], type: AllowanceTooLowError, message: `allowance too low: approve 12.5 USDC to ${ctx.escrow} (payer ${A} has approved 2 USDC)` },
  { error: 'LeaseEscrow_BalanceTooLow', args: [A, 3_000_000n, 12_500_000n], type: BalanceTooLowError, message: `balance too low: payer ${A} holds 3 USDC, the lease needs 12.5 USDC` },
  { error: 'LeaseEscrow_AuthorizationExpired', args: [1_700_000_000n, 1_700_000_100n], type: AuthorizationError, message: /expired at 2023-11-14T22:13:20.000Z/ },
  { error: 'LeaseEscrow_InvalidSigner', args: [A, A], type: AuthorizationError, message: /not signed by payer/ },
  { error: 'LeaseEscrow_NonceUsed', args: [A, 7n], type: AuthorizationError, message: /nonce 7/ },
  { error: 'LeaseEscrow_AmountExceedsAuthorization', args: [12_500_000n, 10_000_000n], type: AuthorizationError, message: /costs 12.5 USDC but the payer authorised at most 10 USDC/ },
  { error: 'LeaseEscrow_InvalidLeaseIdentity', args: [], type: AuthorizationError, message: /non-empty/ },
  { error: 'LeaseEscrow_ZeroAmount', args: [], type: AuthorizationError, message: /cannot lock 0/ },
  { error: 'LeaseEscrow_AmountTooLarge', args: [2n ** 97n, 2n ** 96n - 1n], type: AuthorizationError, message: /per-lease limit/ },
  { error: 'LeaseEscrow_LeaseExists', args: [ID], type: LeaseConflictError, message: /already open/ },
  { error: 'LeaseEscrow_LeaseNotFound', args: [ID], type: LeaseConflictError, message: /never opened/ },
  { error: 'LeaseEscrow_LeaseAlreadySettled', args: [ID], type: LeaseConflictError, message: /already settled/ },
  { error: 'LeaseEscrow_SettlementMismatch', args: [ID, 11n, 10n], type: SettlementInvalidError, message: /credits 0.000011 USDC but 0.00001 USDC is locked/ },
  { error: 'LeaseEscrow_LengthMismatch', args: [2n, 1n], type: SettlementInvalidError, message: /2 providers but 1 amounts/ },
  { error: 'LeaseEscrow_ZeroAddress', args: [], type: SettlementInvalidError, message: /zero address/ },
  { error: 'LeaseEscrow_EmptyBatch', args: [], type: SettlementInvalidError, message: /no settlements/ },
  { error: 'LeaseEscrow_NothingToWithdraw', args: [A], type: SettlementInvalidError, message: /nothing to withdraw/ },
  { error: 'LeaseEscrow_Insolvent', args: [1n, 2n], type: TransactionFailedError, message: /fee on transfer/ },
  { error: 'AccessControlUnauthorizedAccount', args: [A, ID], type: NotPermittedError, message: /lacks role .* grant/ },
  { error: 'EnforcedPause', args: [], type: EscrowPausedError, message: /paused/ },
  { error: 'ReentrancyGuardReentrantCall', args: [], type: TransactionFailedError, message: /re-entrant/ },
])('$error', ({ error, args, type, message }) => {
  const data = iface.encodeErrorResult(error, args);
  const decoded = decodeEscrowRevert(data, ctx);
  expect(decoded).toBeInstanceOf(type);
  if (typeof message === 'string') expect(decoded!.message).toBe(message);
  else expect(decoded!.message).toMatch(message);
});

test('every custom error in the ABI has a decoding (none falls through to the generic message)', () => {
  const names: string[] = [];
  iface.forEachError((e) => names.push(e.name));
  const generic = names.filter((n) => /reverted with/.test(decodeEscrowRevert(iface.encodeErrorResult(n, iface.getError(n)!.inputs.map((i) => (i.type === 'address' ? A : i.type === 'bytes32' ? ID : i.type === 'string' ? 'x' : 1n))), ctx)!.message));
  // OpenZeppelin internals that cannot be reached through LeaseEscrow's functions.
  expect(generic.sort()).toEqual(['AccessControlBadConfirmation', 'ExpectedPause', 'InvalidShortString', 'StringTooLong']);
});

test('data that is not an escrow error decodes to undefined', () => {
  expect(decodeEscrowRevert('0xdeadbeef', ctx)).toBeUndefined();
});

test('revertDataOf finds the data inside nested ethers / JSON-RPC errors', () => {
  const data = iface.encodeErrorResult('LeaseEscrow_ZeroAmount', []);
  expect(revertDataOf({ code: 'CALL_EXCEPTION', info: { error: { data } } })).toBe(data);
  expect(revertDataOf(new Error('x', { cause: { error: { data } } }))).toBe(data);
  expect(revertDataOf({ message: 'no data' })).toBeUndefined();
});
