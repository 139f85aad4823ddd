// The operator's view of the escrow: open a lease, settle it (batched), read its state, withdraw. Every write is
// idempotent by reading contract state first: after a crash, calling openLease or settleLease again for a lease
// that already happened on-chain finds it there and sends nothing. The lease controller uses this class only.
import { getAddress, type JsonRpcProvider } from 'ethers';
import { escrowDomain, leaseIdOf, termsStruct, type EscrowDomain } from './authorization.js';
import { Batcher, realTimers, type BatchOptions, type BatchTimers, type ItemResult } from './batcher.js';
import { LeaseConflictError, TransactionFailedError } from './errors.js';
import { EscrowReader } from './escrow-reader.js';
import { LeaseEscrow__factory } from './generated/index.js';
import { formatAmount, type TokenInfo } from './money.js';
import { defaultRetryPolicy, withRpcRetry, type RetryDeps, type RetryPolicy } from './rpc-retry.js';
import { planSettlements, settlementArgs, type SettleResult } from './settle-plan.js';
import { TransactionManager, type MinedTx, type TxManagerOptions, type TxSigner } from './tx-manager.js';
import {
  realClock, realSleep, silentLogger,
  type Clock, type LeaseOnChain, type Logger, type PermitSignature, type SettlementInstruction, type SignedAuthorization, type Sleep,
} from './types.js';
import { tokenInfo } from './wallet.js';

export type { SettleResult } from './settle-plan.js';

export type OpenResult = {
  readonly leaseId: string;
  /** opened: this call's transaction opened it; already-open: it was open on-chain already, nothing was sent. */
  readonly status: 'opened' | 'already-open';
  readonly txHash: string | undefined;
  readonly blockNumber: number | undefined;
};

export type WithdrawResult = { readonly amount: bigint; readonly txHash: string | undefined };

export type ChainClientOptions = {
  readonly provider: JsonRpcProvider;
  /** The settler's key (holds SETTLER_ROLE on the escrow). */
  readonly signer: TxSigner;
  readonly escrowAddress: string;
  /** Blocks (including the one holding it) before a transaction counts as done. Default 1. */
  readonly confirmations?: number;
  /** Settlements due within `windowMs` go out as one settleMany of at most `maxSize`. Default 50 / 2 s. */
  readonly batch?: BatchOptions;
  /** Transaction manager tuning (poll interval, replacement, fee bump, overall wait). */
  readonly tx?: Pick<TxManagerOptions, 'pollIntervalMs' | 'replaceAfterMs' | 'feeBumpPercent' | 'gasMarginPercent' | 'maxWaitMs'>;
  readonly retry?: RetryPolicy;
  /** How far back to look for the event of a lease that is already open or settled (for its tx hash). */
  readonly logLookbackBlocks?: number;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly logger?: Logger;
  readonly timers?: BatchTimers;
};

const short = (id: string): string => `${id.slice(0, 10)}…`;
const DEFAULT_BATCH: BatchOptions = { maxSize: 50, windowMs: 2_000 };
/** Opens arriving within this window share one openMany transaction (a lone open waits this long at most). */
const OPEN_BATCH_WINDOW_MS = 25;

type OpenItem = { readonly auth: SignedAuthorization; readonly amount: bigint; readonly label: string };

export class ChainClient extends EscrowReader {
  private readonly tx: TransactionManager;
  private readonly batcher: Batcher<SettlementInstruction, SettleResult>;
  private readonly opens: Batcher<OpenItem, MinedTx>;
  private readonly batchOptions: BatchOptions;

  private constructor(o: ChainClientOptions, readonly chainId: bigint, readonly token: TokenInfo, retry: RetryDeps) {
    super({
      provider: o.provider,
      escrowAddress: o.escrowAddress,
      account: o.signer.address,
      token,
      confirmations: o.confirmations ?? 1,
      pollIntervalMs: o.tx?.pollIntervalMs ?? 1_000,
      logLookbackBlocks: o.logLookbackBlocks ?? 50_000,
      retry,
    });
    this.tx = new TransactionManager({
      ...o.tx,
      provider: o.provider,
      signer: o.signer,
      chainId,
      confirmations: o.confirmations ?? 1,
      retry: retry.policy,
      clock: retry.clock,
      sleep: retry.sleep,
      logger: retry.logger,
    });
    this.batchOptions = o.batch ?? DEFAULT_BATCH;
    this.batcher = new Batcher(this.batchOptions, (items) => this.settleLeases(items), o.timers ?? realTimers, retry.clock);
    this.opens = new Batcher({ maxSize: this.batchOptions.maxSize, windowMs: OPEN_BATCH_WINDOW_MS }, (items) => this.sendOpens(items), o.timers ?? realTimers, retry.clock);
  }

  /**
   * Sends opens that arrived together as one openMany (a lone one as open). The batch is all or nothing, and
   * simulated before it is sent: if any request in it would fail, each is sent on its own instead, so a bad
   * authorisation fails its own lease only, with its own error.
   */
  private async sendOpens(items: readonly OpenItem[]): Promise<ItemResult<MinedTx>[]> {
    const one = (it: OpenItem) => this.tx.send({ label: it.label, to: this.r.escrowAddress, data: this.escrow.interface.encodeFunctionData('open', [termsStruct(it.auth.terms), it.amount, it.auth.signature]) });
    const each = async (): Promise<ItemResult<MinedTx>[]> =>
      (await Promise.allSettled(items.map(one))).map((r) => (r.status === 'fulfilled' ? { ok: true, value: r.value } : { ok: false, error: r.reason }));
    if (items.length === 1) return each();
    const data = this.escrow.interface.encodeFunctionData('openMany', [items.map((it) => ({ terms: termsStruct(it.auth.terms), amount: it.amount, signature: it.auth.signature }))]);
    try {
      const mined = await this.tx.send({ label: `open ${items.length} leases`, to: this.r.escrowAddress, data });
      return items.map(() => ({ ok: true, value: mined }));
    } catch (err) {
      this.logger.info(`open ${items.length} leases as one batch failed (${(err as Error).message}); opening them one by one`);
      return each();
    }
  }

  /** Reads the chain id and the escrow's token (for messages), and returns a ready client. */
  static async connect(o: ChainClientOptions): Promise<ChainClient> {
    const retry: RetryDeps = { clock: o.clock ?? realClock, sleep: o.sleep ?? realSleep, logger: o.logger ?? silentLogger, policy: o.retry ?? defaultRetryPolicy };
    const { chainId } = await withRpcRetry('chain id', () => o.provider.getNetwork(), retry);
    const tokenAddress = await withRpcRetry('escrow token', () => LeaseEscrow__factory.connect(o.escrowAddress, o.provider).token(), retry);
    const token = await withRpcRetry('token metadata', () => tokenInfo(o.provider, tokenAddress), retry);
    return new ChainClient({ ...o, escrowAddress: getAddress(o.escrowAddress) }, chainId, token, retry);
  }

  get escrowAddress(): string {
    return this.r.escrowAddress;
  }

  /** The settler's address. */
  get address(): string {
    return this.tx.address;
  }

  /** The EIP-712 domain payers sign authorisations under (this chain, this escrow). */
  get domain(): EscrowDomain {
    return escrowDomain(this.chainId, this.r.escrowAddress);
  }

  /** One sentence for each thing the client is waiting for (for a status condition). Empty when idle. */
  waitingFor(): string[] {
    const { count, closesInMs } = this.batcher.pending();
    const batch = count > 0 ? [`${count} settlement(s) waiting for the batch window (sent in ${closesInMs} ms, or sooner at ${this.batchOptions.maxSize})`] : [];
    return [...batch, ...this.tx.waitingFor(), ...this.readerWaiting()];
  }

  /**
   * Opens the lease the authorisation names, locking `amount` (<= its maximum). With `permit`, the payer needs no
   * prior approve. Idempotent: a lease already open on-chain for this payer returns 'already-open'.
   */
  async openLease(auth: SignedAuthorization, amount: bigint, opts: { permit?: PermitSignature } = {}): Promise<OpenResult> {
    const leaseId = leaseIdOf(auth.terms);
    const label = `open lease ${auth.terms.namespace}/${auth.terms.name} (${short(leaseId)}, ${formatAmount(amount, this.token)})`;
    // With a permit the lease goes out on its own (openWithPermit); otherwise it joins the next openMany batch.
    const permit = opts.permit;
    const send = permit
      ? () => this.tx.send({ label, to: this.r.escrowAddress, data: this.escrow.interface.encodeFunctionData('openWithPermit', [termsStruct(auth.terms), amount, auth.signature, permit]) })
      : () => this.opens.add({ auth, amount, label });
    for (let attempt = 0; ; attempt++) {
      const existing = await this.leaseState(leaseId);
      if (existing.status !== 'None') {
        const found = await this.alreadyOpen(existing, auth, label);
        if (found) return found;
        if (attempt >= 3) throw new TransactionFailedError(`${label}: the lease keeps disappearing from the chain (reorgs); try again later`, undefined, { retryable: 'retry' });
        continue; // reorged away while we waited for its confirmations: open it (again)
      }
      try {
        const mined = await send();
        return { leaseId, status: 'opened', txHash: mined.hash, blockNumber: mined.blockNumber };
      } catch (err) {
        const e = this.decode(err, `${label} failed`);
        if (!(e instanceof LeaseConflictError && e.conflict === 'Exists') || attempt >= 3) throw e;
        // Opened by a transaction we did not send in this run (an earlier run's): the next round finds it.
      }
    }
  }

  /** A lease found open on-chain: the same payer's (else a conflict), deep enough, and still there afterwards. */
  private async alreadyOpen(state: LeaseOnChain, auth: SignedAuthorization, label: string): Promise<OpenResult | undefined> {
    if (getAddress(state.payer) !== getAddress(auth.terms.payer)) {
      throw new LeaseConflictError('Exists', state.leaseId, `lease ${state.leaseId} is open on-chain for payer ${state.payer}, not ${auth.terms.payer}`);
    }
    const ev = (await this.findEvents('LeaseOpened', [state.leaseId])).get(state.leaseId);
    await this.awaitDepth(ev?.blockNumber, label);
    if ((await this.leaseState(state.leaseId)).status === 'None') return undefined;
    this.logger.info(`${label}: already open on-chain; nothing sent`, { txHash: ev?.txHash });
    return { leaseId: state.leaseId, status: 'already-open', txHash: ev?.txHash, blockNumber: ev?.blockNumber };
  }

  /** Queues a settlement for the next batch and resolves once that batch is confirmed. */
  settleLease(s: SettlementInstruction): Promise<SettleResult> {
    return this.batcher.add(s);
  }

  /** Sends whatever settlements are queued now and waits for them. */
  flush(): Promise<void> {
    return Promise.all([this.opens.flush(), this.batcher.flush()]).then(() => undefined);
  }

  /**
   * Settles these leases now, in settleMany transactions of at most the batch size (a single lease uses settle).
   * Leases already settled on-chain are reported, not re-sent; a bad instruction fails alone.
   */
  async settleLeases(items: readonly SettlementInstruction[]): Promise<ItemResult<SettleResult>[]> {
    const max = this.batchOptions.maxSize;
    const out: ItemResult<SettleResult>[] = [];
    for (let i = 0; i < items.length; i += max) out.push(...(await this.settleChunk(items.slice(i, i + max))));
    return out;
  }

  private async settleChunk(items: readonly SettlementInstruction[]): Promise<ItemResult<SettleResult>[]> {
    const results = new Map<string, ItemResult<SettleResult>>();
    for (let round = 0; round < 5; round++) {
      const open = items.filter((s) => !results.has(s.leaseId));
      if (open.length === 0) break;
      const plan = planSettlements(open, await this.leaseStates([...new Set(open.map((s) => s.leaseId))]), this.token);
      for (const [id, error] of plan.rejected) results.set(id, { ok: false, error });
      if (plan.alreadySettled.length > 0) {
        // Settled by an earlier run: report it once it is deep enough and still settled (else: next round).
        const found = await this.findEvents('LeaseSettled', plan.alreadySettled);
        const deepest = Math.max(...plan.alreadySettled.map((id) => found.get(id)?.blockNumber ?? 0));
        await this.awaitDepth(deepest || undefined, `settle ${plan.alreadySettled.length} lease(s) settled earlier`);
        for (const state of await this.leaseStates(plan.alreadySettled)) {
          if (state.status !== 'Settled') continue;
          const ev = found.get(state.leaseId);
          this.logger.info(`settle lease ${short(state.leaseId)}: already settled on-chain; nothing sent`, { txHash: ev?.txHash });
          results.set(state.leaseId, { ok: true, value: { leaseId: state.leaseId, status: 'already-settled', txHash: ev?.txHash, blockNumber: ev?.blockNumber, batchSize: 0 } });
        }
      }
      if (plan.toSend.length > 0) await this.sendSettlements(plan.toSend, results);
    }
    return items.map((s) => results.get(s.leaseId) ?? { ok: false, error: new TransactionFailedError(`settle lease ${s.leaseId}: its state kept changing under this batch (reorgs or another settler); will retry`, undefined, { retryable: 'retry' }) });
  }

  private async sendSettlements(batch: readonly SettlementInstruction[], results: Map<string, ItemResult<SettleResult>>): Promise<void> {
    const label = batch.length === 1 ? `settle lease ${short(batch[0]!.leaseId)} (${batch[0]!.reason})` : `settle ${batch.length} leases`;
    const data = batch.length === 1
      ? this.escrow.interface.encodeFunctionData('settle', settlementArgs(batch[0]!))
      : this.escrow.interface.encodeFunctionData('settleMany', [batch.map((s) => {
        const [leaseId, providers, amounts, fee, refund, reason] = settlementArgs(s);
        return { leaseId, providers, amounts, fee, refund, reason };
      })]);
    try {
      const mined = await this.tx.send({ label, to: this.r.escrowAddress, data });
      for (const s of batch) {
        results.set(s.leaseId, { ok: true, value: { leaseId: s.leaseId, status: 'settled', txHash: mined.hash, blockNumber: mined.blockNumber, batchSize: batch.length } });
      }
    } catch (err) {
      const e = this.decode(err, `${label} failed`);
      // A lease settled (or not found) since we read the state: the next round re-reads and goes without it.
      if (e instanceof LeaseConflictError) return;
      // An error about one lease fails that lease; the others go again in the next round.
      const one = (e as { leaseId?: unknown }).leaseId;
      if (typeof one === 'string' && batch.some((s) => s.leaseId === one)) {
        results.set(one, { ok: false, error: e });
        return;
      }
      for (const s of batch) results.set(s.leaseId, { ok: false, error: e });
    }
  }

  /** Withdraws everything credited to the settler's own address (when it is also a beneficiary). */
  async withdraw(): Promise<WithdrawResult> {
    const amount = await this.owed(this.address);
    if (amount === 0n) return { amount, txHash: undefined };
    try {
      const mined = await this.tx.send({ label: `withdraw ${formatAmount(amount, this.token)}`, to: this.r.escrowAddress, data: this.escrow.interface.encodeFunctionData('withdraw') });
      return { amount, txHash: mined.hash };
    } catch (err) {
      throw this.decode(err, 'withdraw failed');
    }
  }
}

