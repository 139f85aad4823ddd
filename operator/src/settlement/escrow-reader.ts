// Reading the escrow for the chain client: lease state, balances, the events of leases that already happened
// (for their transaction hash), waiting until a block is deep enough, and turning what a write threw into a typed
// error. Every read retries transient RPC failures.
import type { JsonRpcProvider } from 'ethers';
import { SettlementError, TransactionFailedError, decodeEscrowRevert } from './errors.js';
import { LeaseEscrow__factory, type LeaseEscrow } from './generated/index.js';
import type { TokenInfo } from './money.js';
import { describeFailure, withRpcRetry, type RetryDeps } from './rpc-retry.js';
import { TransactionRevertedError } from './tx-manager.js';
import { closeReasonName, leaseStatusName, type LeaseOnChain, type Logger } from './types.js';

export type ReaderOptions = {
  readonly provider: JsonRpcProvider;
  readonly escrowAddress: string;
  /** The settler's address (named in error messages). */
  readonly account: string;
  readonly token: TokenInfo;
  readonly confirmations: number;
  readonly pollIntervalMs: number;
  readonly logLookbackBlocks: number;
  readonly retry: RetryDeps;
};

export type FoundEvent = { readonly txHash: string; readonly blockNumber: number };

export class EscrowReader {
  readonly escrow: LeaseEscrow;
  protected readonly logger: Logger;
  private readonly notes = new Map<number, string>();
  private noteSeq = 0;

  constructor(protected readonly r: ReaderOptions) {
    this.escrow = LeaseEscrow__factory.connect(r.escrowAddress, r.provider);
    this.logger = r.retry.logger;
  }

  protected read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRpcRetry(what, fn, this.r.retry);
  }

  /** Sentences for what reads are waiting for (confirmations of a lease found on-chain). */
  protected readerWaiting(): string[] {
    return [...this.notes.values()];
  }

  async leaseState(leaseId: string): Promise<LeaseOnChain> {
    return (await this.leaseStates([leaseId]))[0]!;
  }

  async leaseStates(leaseIds: readonly string[]): Promise<LeaseOnChain[]> {
    if (leaseIds.length === 0) return [];
    const raw = await this.read('lease states', () => this.escrow.leaseStates([...leaseIds]));
    return raw.map((s, i) => ({
      leaseId: leaseIds[i]!,
      status: leaseStatusName(s.status),
      reason: closeReasonName(s.reason),
      payer: s.payer,
      openedAt: s.openedAt,
      locked: s.locked,
      treasury: s.treasury,
    }));
  }

  /** Credited to `account` and not yet withdrawn. */
  owed(account: string): Promise<bigint> {
    return this.read('owed', () => this.escrow.owed(account));
  }

  /** The transaction of each lease's LeaseOpened / LeaseSettled event within the lookback window (best effort). */
  protected async findEvents(event: 'LeaseOpened' | 'LeaseSettled', leaseIds: readonly string[]): Promise<Map<string, FoundEvent>> {
    const found = new Map<string, FoundEvent>();
    try {
      const head = await this.read('block number', () => this.r.provider.getBlockNumber());
      const topic = this.escrow.interface.getEvent(event).topicHash;
      const logs = await this.read('event logs', () => this.r.provider.getLogs({
        address: this.r.escrowAddress,
        topics: [topic, [...leaseIds]],
        fromBlock: Math.max(0, head - this.r.logLookbackBlocks),
        toBlock: head,
      }));
      for (const l of logs) found.set(l.topics[1]!, { txHash: l.transactionHash, blockNumber: l.blockNumber });
    } catch (err) {
      this.logger.debug(`looking up ${event} events failed; the transaction hash is left unknown`, { error: String(err) });
    }
    return found;
  }

  /**
   * Waits until `blockNumber` has the configured confirmations, so that a lease found already open or settled
   * (by an earlier run) is as final as one this run confirmed. The caller re-reads state afterwards: a reorg may
   * have undone it.
   */
  protected async awaitDepth(blockNumber: number | undefined, label: string): Promise<void> {
    if (blockNumber === undefined || this.r.confirmations <= 1) return;
    const id = this.noteSeq++;
    try {
      for (;;) {
        const head = await this.read('block number', () => this.r.provider.getBlockNumber());
        const have = head - blockNumber + 1;
        if (have >= this.r.confirmations) return;
        const note = `${label}: found on-chain in block ${blockNumber}; waiting for ${this.r.confirmations - have} more confirmation(s)`;
        if (this.notes.get(id) !== note) this.logger.debug(note);
        this.notes.set(id, note);
        await this.r.retry.sleep(this.r.pollIntervalMs);
      }
    } finally {
      this.notes.delete(id);
    }
  }

  /** Maps anything thrown by a write into a typed SettlementError (custom errors decoded from the ABI). */
  protected decode(err: unknown, context: string): SettlementError {
    if (err instanceof SettlementError) return err;
    const ctx = { token: this.r.token, escrow: this.r.escrowAddress, account: this.r.account };
    if (err instanceof TransactionRevertedError) {
      const decoded = err.revertData ? decodeEscrowRevert(err.revertData, ctx, err) : undefined;
      return decoded ?? new TransactionFailedError(`${context}: reverted ${err.stage === 'on-chain' ? `on-chain (${err.txHash})` : 'in simulation'} without a known error`, err.revertData, { cause: err });
    }
    if ((err as { code?: unknown }).code === 'INSUFFICIENT_FUNDS') {
      return new SettlementError('TransactionFailed', `${context}: settler ${this.r.account} has too little ETH to pay for gas; fund it`, 'admin-action', { cause: err });
    }
    return new TransactionFailedError(`${context}: ${describeFailure(err)}`, undefined, { cause: err, retryable: 'retry' });
  }
}
