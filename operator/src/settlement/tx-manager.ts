// The operator's transaction manager: one signer, its own nonce, EIP-1559 fees, N confirmations, and the faults
// of a real chain handled in one place:
//   - restart: the nonce is read from the chain's pending count on first use and after any doubt;
//   - a transaction the node forgot (node restart, reorg) is re-broadcast, signed bytes unchanged (same nonce);
//   - one pending too long is replaced with the same nonce and higher fees;
//   - a receipt whose block left the canonical chain (reorg) is not trusted: it waits for the new inclusion;
//   - the RPC endpoint down, slow or answering 5xx: retried with backoff, and said so in waitingFor().
// It simulates every transaction (eth_estimateGas) before spending a nonce, so a revert is reported with its
// custom error and costs nothing. Idempotency of *operations* (open, settle) is the chain client's job: it reads
// contract state before calling send().
import { keccak256, type FeeData, type JsonRpcProvider, type Log, type TransactionRequest } from 'ethers';
import { ChainUnavailableError, revertDataOf } from './errors.js';
import { defaultRetryPolicy, describeFailure, isTransient, withRpcRetry, type RetryPolicy } from './rpc-retry.js';
import { realClock, realSleep, silentLogger, type Clock, type Logger, type Sleep } from './types.js';

/** Signs transactions; an ethers Wallet fits. The key never leaves it. */
export type TxSigner = { readonly address: string; signTransaction(tx: TransactionRequest): Promise<string> };

export type TxManagerOptions = {
  readonly provider: JsonRpcProvider;
  readonly signer: TxSigner;
  readonly chainId: bigint;
  /** Blocks on top of (and including) the one holding the transaction before it counts as done. Default 1. */
  readonly confirmations?: number;
  readonly pollIntervalMs?: number;
  /** A transaction still pending after this long is replaced (same nonce, higher fees). Default 60 s. */
  readonly replaceAfterMs?: number;
  /** Fee increase for a replacement, in percent (nodes require at least 10). Default 20. */
  readonly feeBumpPercent?: number;
  /** Added to the estimated gas, in percent. Default 25. */
  readonly gasMarginPercent?: number;
  /** Give up waiting for one transaction after this long (ChainUnavailableError; the operation can be re-run). */
  readonly maxWaitMs?: number;
  readonly retry?: RetryPolicy;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly logger?: Logger;
};

export type TxRequest = { readonly label: string; readonly to: string; readonly data: string };

export type MinedTx = {
  readonly hash: string;
  readonly nonce: number;
  readonly blockNumber: number;
  readonly blockHash: string;
  readonly gasUsed: bigint;
  readonly logs: readonly Log[];
};

/** The transaction was refused by the contract: in simulation (nothing sent) or on-chain (gas spent). */
export class TransactionRevertedError extends Error {
  override readonly name = 'TransactionRevertedError';
  constructor(
    message: string,
    readonly revertData: string | undefined,
    readonly stage: 'simulation' | 'on-chain',
    readonly txHash?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Our nonce was used by a transaction we have no receipt for (another process with the same key, or a replaced
 * transaction we lost track of). The operation must be re-checked against contract state before trying again. */
class NonceConsumed extends Error {}

type Attempt = { hash: string; raw: string; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
type Prepared = { readonly gasLimit: bigint; readonly maxFeePerGas: bigint; readonly maxPriorityFeePerGas: bigint };
type InFlight = { readonly label: string; readonly nonce: number; readonly gasLimit: bigint; readonly to: string; readonly data: string; attempts: Attempt[] };

export class TransactionManager {
  private readonly o: Required<Omit<TxManagerOptions, 'retry'>> & { retry: RetryPolicy };
  private nextNonce: number | undefined;
  private lock: Promise<void> = Promise.resolve();
  private readonly waiting = new Map<number, string>();
  private seq = 0;
  private fees: { at: number; value: Promise<FeeData> } | undefined;

  constructor(opts: TxManagerOptions) {
    this.o = {
      confirmations: 1,
      pollIntervalMs: 1_000,
      replaceAfterMs: 60_000,
      feeBumpPercent: 20,
      gasMarginPercent: 25,
      maxWaitMs: 10 * 60_000,
      clock: realClock,
      sleep: realSleep,
      logger: silentLogger,
      ...opts,
      retry: opts.retry ?? defaultRetryPolicy,
    };
  }

  get address(): string {
    return this.o.signer.address;
  }

  /** One sentence per transaction in flight: what it is waiting for right now. */
  waitingFor(): string[] {
    return [...this.waiting.values()];
  }

  /** Simulates, signs, broadcasts and waits for `confirmations`; returns the canonical receipt's facts. */
  async send(req: TxRequest): Promise<MinedTx> {
    const id = this.seq++;
    const say = (text: string, level: 'debug' | 'info' | 'warn' = 'debug'): void => {
      const sentence = `${req.label}: ${text}`;
      if (this.waiting.get(id) !== sentence) this.o.logger[level](sentence);
      this.waiting.set(id, sentence);
    };
    try {
      for (let restart = 0; ; restart++) {
        try {
          // Simulation and fees need no nonce, so many transactions prepare at once; only signing and
          // broadcasting hold the nonce lock (that is what lets many opens be in flight together).
          const prepared = await this.prepare(req, say);
          const tx = await this.exclusive(() => this.signAndBroadcast(req, prepared, say));
          return await this.awaitConfirmed(tx, say);
        } catch (err) {
          if (!(err instanceof NonceConsumed) || restart >= 3) throw err;
          // Either a transaction of ours whose receipt we could not see, or someone else using this key. The
          // simulation of the retry tells: an operation that already happened now reverts (and the chain client
          // reads that as done).
          say(`${err.message}; re-reading the chain's nonce and simulating again`, 'warn');
          this.nextNonce = undefined;
        }
      }
    } finally {
      this.waiting.delete(id);
    }
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private rpc<T>(what: string, fn: () => Promise<T>, say: (t: string, l?: 'warn') => void): Promise<T> {
    return withRpcRetry(what, fn, { clock: this.o.clock, sleep: this.o.sleep, logger: silentLogger, policy: this.o.retry }, (w) => say(w, 'warn'));
  }

  /** Simulates the call (a revert costs nothing) and picks the gas limit and fees. */
  private async prepare(req: TxRequest, say: (t: string, l?: 'debug' | 'info' | 'warn') => void): Promise<Prepared> {
    const p = this.o.provider;
    const from = this.o.signer.address;
    say('simulating');
    let estimate: bigint;
    try {
      // Against the latest block, not the node's pending state: a transaction still in the mempool (say, from
      // before a restart) must not make this one look done; if both get mined, the second reverts harmlessly.
      estimate = BigInt(await this.rpc('eth_estimateGas', () => p.send('eth_estimateGas', [{ from, to: req.to, data: req.data }, 'latest']) as Promise<string>, say));
    } catch (err) {
      const data = revertDataOf(err);
      if (data !== undefined || (err as { code?: unknown }).code === 'CALL_EXCEPTION') {
        throw new TransactionRevertedError(`${req.label}: refused in simulation`, data, 'simulation', undefined, { cause: err });
      }
      throw err;
    }
    const gasLimit = (estimate * BigInt(100 + this.o.gasMarginPercent)) / 100n;
    const fees = await this.rpc('fee data', () => this.feeData(), say);
    const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 1_000_000_000n;
    const maxFeePerGas = fees.maxFeePerGas ?? maxPriorityFeePerGas * 2n;
    return { gasLimit, maxFeePerGas, maxPriorityFeePerGas };
  }

  /**
   * Fee data shared by the transactions prepared within one poll interval (one request for a burst of opens
   * instead of one each). A failed request is not kept.
   */
  private feeData(): Promise<FeeData> {
    const now = this.o.clock();
    if (this.fees && now - this.fees.at < this.o.pollIntervalMs) return this.fees.value;
    const value = this.o.provider.getFeeData();
    this.fees = { at: now, value };
    value.catch(() => {
      if (this.fees?.value === value) this.fees = undefined;
    });
    return value;
  }

  private async signAndBroadcast(req: TxRequest, prepared: Prepared, say: (t: string, l?: 'debug' | 'info' | 'warn') => void): Promise<InFlight> {
    const p = this.o.provider;
    const from = this.o.signer.address;
    if (this.nextNonce === undefined) {
      this.nextNonce = await this.rpc('pending nonce', () => p.getTransactionCount(from, 'pending'), say);
      this.o.logger.info(`settlement signer ${from}: next nonce ${this.nextNonce} (from the chain's pending count)`);
    }
    const nonce = this.nextNonce;
    const tx: InFlight = { label: req.label, nonce, gasLimit: prepared.gasLimit, to: req.to, data: req.data, attempts: [] };
    tx.attempts.push(await this.sign(tx, prepared.maxFeePerGas, prepared.maxPriorityFeePerGas));
    this.nextNonce = nonce + 1;
    try {
      await this.broadcast(tx, tx.attempts[0]!, say);
    } catch (err) {
      this.nextNonce = undefined; // we cannot know whether the node took it: re-read the pending count next time
      throw err;
    }
    return tx;
  }

  private async sign(tx: InFlight, maxFeePerGas: bigint, maxPriorityFeePerGas: bigint): Promise<Attempt> {
    const raw = await this.o.signer.signTransaction({
      type: 2,
      chainId: this.o.chainId,
      nonce: tx.nonce,
      to: tx.to,
      data: tx.data,
      value: 0n,
      gasLimit: tx.gasLimit,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    return { hash: keccak256(raw), raw, maxFeePerGas, maxPriorityFeePerGas };
  }

  /** Sends signed bytes; a lost answer is resolved by asking the node whether it has the transaction. */
  private async broadcast(tx: InFlight, attempt: Attempt, say: (t: string, l?: 'debug' | 'info' | 'warn') => void): Promise<void> {
    say(`broadcasting ${attempt.hash} (nonce ${tx.nonce})`);
    const p = this.o.provider;
    await this.rpc('eth_sendRawTransaction', async () => {
      try {
        await p.send('eth_sendRawTransaction', [attempt.raw]);
      } catch (err) {
        // The node may have taken it before the answer was lost, or already mined it: both are success.
        const text = describeFailure(err);
        if (await p.send('eth_getTransactionByHash', [attempt.hash]).catch(() => null)) {
          say(`the answer to eth_sendRawTransaction was lost (${text}), but the node has ${attempt.hash}: not sending it again`, 'warn');
          return;
        }
        if (tx.attempts.length > 1 && (await this.knownToNode(tx).catch(() => false))) {
          say(`an earlier transaction with nonce ${tx.nonce} is already in the node or mined (${text}): waiting for it instead`, 'warn');
          return;
        }
        if (/already known|already imported|known transaction/i.test(text)) return;
        if ((err as { code?: unknown }).code === 'NONCE_EXPIRED' || /nonce too low/i.test(text)) {
          throw new NonceConsumed(`nonce ${tx.nonce} is already used on-chain (${text})`);
        }
        throw err;
      }
    }, say);
  }

  private async awaitConfirmed(tx: InFlight, say: (t: string, l?: 'debug' | 'info' | 'warn') => void): Promise<MinedTx> {
    const p = this.o.provider;
    const started = this.o.clock();
    let broadcastAt = started;
    // Polls soon after the broadcast and then less often, up to pollIntervalMs: a chain that
    // mines at once (anvil, a fast L2) answers in tens of milliseconds, and a slow one is not
    // asked more than once per interval after the first second.
    let polls = 0;
    for (;;) {
      if (this.o.clock() - started > this.o.maxWaitMs) {
        this.nextNonce = undefined;
        throw new ChainUnavailableError(`${tx.label}: transaction ${tx.attempts.at(-1)!.hash} (nonce ${tx.nonce}) not confirmed after ${Math.round(this.o.maxWaitMs / 1000)} s; it may still be mined, and re-running the operation is safe`);
      }
      const receipt = await this.rpc('receipt', () => this.findReceipt(tx), say);
      if (receipt) {
        if (receipt.status === 0) {
          // Replaying the call on the block's state recovers the custom error (receipts carry none).
          const data = await this.rpc('replay of the reverted call', () =>
            p.call({ from: this.o.signer.address, to: tx.to, data: tx.data, blockTag: receipt.blockNumber }).then(
              () => undefined,
              (err: unknown) => {
                if (isTransient(err)) throw err;
                return revertDataOf(err);
              },
            ), say);
          throw new TransactionRevertedError(`${tx.label}: reverted on-chain in ${receipt.hash}`, data, 'on-chain', receipt.hash);
        }
        const head = await this.rpc('block number', () => p.getBlockNumber(), say);
        const have = head - receipt.blockNumber + 1;
        const block = await this.rpc('block', () => p.getBlock(receipt.blockNumber), say);
        if (block?.hash !== receipt.blockHash) {
          say(`block ${receipt.blockNumber} holding ${receipt.hash} left the canonical chain (reorg): waiting for the transaction to be mined again`, 'warn');
        } else if (have >= this.o.confirmations) {
          say(`confirmed ${receipt.hash} in block ${receipt.blockNumber} (${have} confirmation(s))`, 'info');
          return { hash: receipt.hash, nonce: tx.nonce, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash, gasUsed: receipt.gasUsed, logs: receipt.logs };
        } else {
          say(`waiting for ${this.o.confirmations - have} more confirmation(s) of ${receipt.hash} (block ${receipt.blockNumber}, head ${head})`);
        }
      } else {
        const latest = tx.attempts.at(-1)!;
        const known = await this.rpc('transaction lookup', () => this.knownToNode(tx), say);
        if (!known) {
          const mined = await this.rpc('nonce', () => p.getTransactionCount(this.o.signer.address, 'latest'), say);
          if (mined > tx.nonce) {
            if (await this.rpc('receipt', () => this.findReceipt(tx), say)) continue;
            throw new NonceConsumed(`nonce ${tx.nonce} was used by a transaction that is not ours`);
          }
          say(`transaction ${latest.hash} (nonce ${tx.nonce}) is unknown to the node (dropped by a restart or a reorg): re-broadcasting it`, 'warn');
          await this.broadcast(tx, latest, say);
          broadcastAt = this.o.clock();
        } else if (this.o.clock() - broadcastAt > this.o.replaceAfterMs) {
          const bump = (v: bigint): bigint => (v * BigInt(100 + this.o.feeBumpPercent)) / 100n + 1n;
          const fees = await this.rpc('fee data', () => p.getFeeData(), say);
          const maxFee = [bump(latest.maxFeePerGas), fees.maxFeePerGas ?? 0n].reduce((a, b) => (a > b ? a : b));
          const replacement = await this.sign(tx, maxFee, bump(latest.maxPriorityFeePerGas));
          say(`transaction ${latest.hash} pending for ${((this.o.clock() - broadcastAt) / 1000).toFixed(1)} s: replacing it with ${replacement.hash} (nonce ${tx.nonce}, max fee ${maxFee} wei)`, 'warn');
          tx.attempts.push(replacement);
          await this.broadcast(tx, replacement, say);
          broadcastAt = this.o.clock();
        } else {
          say(`waiting for ${latest.hash} (nonce ${tx.nonce}) to be mined`);
        }
      }
      await this.o.sleep(Math.min(this.o.pollIntervalMs, 50 * 2 ** polls++));
    }
  }

  private async findReceipt(tx: InFlight) {
    for (const a of [...tx.attempts].reverse()) {
      const r = await this.o.provider.getTransactionReceipt(a.hash);
      if (r) return r;
    }
    return null;
  }

  private async knownToNode(tx: InFlight): Promise<boolean> {
    for (const a of tx.attempts) {
      if (await this.o.provider.send('eth_getTransactionByHash', [a.hash])) return true;
    }
    return false;
  }
}
