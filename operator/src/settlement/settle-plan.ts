// Deciding, from contract state, what a batch of settlements must send: pure, so it is unit-tested without a chain.
// Already settled -> report, send nothing. Never opened -> that lease fails. Credits that do not add up to the
// locked amount -> that lease fails here, before it can revert the whole batch on-chain.
import { ZeroAddress, getAddress, isAddress } from 'ethers';
import { LeaseConflictError, SettlementInvalidError, type SettlementError } from './errors.js';
import { formatAmount, type TokenInfo } from './money.js';
import { CloseReason, type LeaseOnChain, type SettlementInstruction } from './types.js';

export type SettleResult = {
  readonly leaseId: string;
  /** settled: this call's transaction settled it; already-settled: it was settled on-chain already, nothing sent. */
  readonly status: 'settled' | 'already-settled';
  readonly txHash: string | undefined;
  readonly blockNumber: number | undefined;
  /** How many leases the transaction settled (0 when nothing was sent). */
  readonly batchSize: number;
};

export type SettlementPlan = {
  readonly toSend: SettlementInstruction[];
  readonly alreadySettled: string[];
  readonly rejected: Map<string, SettlementError>;
};

/** Checks one instruction against the lease's locked amount; returns the problem, if any. */
export function validateSettlement(s: SettlementInstruction, locked: bigint, token: TokenInfo): SettlementError | undefined {
  for (const p of s.providers) {
    if (!isAddress(p.address) || getAddress(p.address) === ZeroAddress) {
      return new SettlementInvalidError(s.leaseId, `settlement of lease ${s.leaseId}: provider address ${p.address} is not a valid non-zero address`);
    }
    if (p.amount < 0n) return new SettlementInvalidError(s.leaseId, `settlement of lease ${s.leaseId}: provider ${p.address} has a negative amount`);
  }
  if (s.fee < 0n || s.refund < 0n) return new SettlementInvalidError(s.leaseId, `settlement of lease ${s.leaseId}: fee and refund must not be negative`);
  if (!(s.reason in CloseReason)) return new SettlementInvalidError(s.leaseId, `settlement of lease ${s.leaseId}: unknown close reason ${String(s.reason)}`);
  const credited = s.providers.reduce((sum, p) => sum + p.amount, 0n) + s.fee + s.refund;
  if (credited !== locked) {
    return new SettlementInvalidError(s.leaseId, `settlement of lease ${s.leaseId} credits ${formatAmount(credited, token)} but ${formatAmount(locked, token)} is locked: providers + fee + refund must equal the locked amount exactly`);
  }
  return undefined;
}

export function planSettlements(items: readonly SettlementInstruction[], states: readonly LeaseOnChain[], token: TokenInfo): SettlementPlan {
  const byId = new Map(states.map((s) => [s.leaseId, s]));
  const plan: SettlementPlan = { toSend: [], alreadySettled: [], rejected: new Map() };
  const seen = new Set<string>();
  for (const s of items) {
    if (seen.has(s.leaseId)) continue;
    seen.add(s.leaseId);
    const state = byId.get(s.leaseId);
    if (!state || state.status === 'None') {
      plan.rejected.set(s.leaseId, new LeaseConflictError('NotFound', s.leaseId, `lease ${s.leaseId} was never opened on-chain: nothing to settle`));
    } else if (state.status === 'Settled') {
      plan.alreadySettled.push(s.leaseId);
    } else {
      const problem = validateSettlement(s, state.locked, token);
      if (problem) plan.rejected.set(s.leaseId, problem);
      else plan.toSend.push(s);
    }
  }
  return plan;
}

/** The arguments of LeaseEscrow.settle for one instruction. */
export function settlementArgs(s: SettlementInstruction): [string, string[], bigint[], bigint, bigint, number] {
  return [s.leaseId, s.providers.map((p) => getAddress(p.address)), s.providers.map((p) => p.amount), s.fee, s.refund, CloseReason[s.reason]];
}
