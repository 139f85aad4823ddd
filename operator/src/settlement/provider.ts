// The JSON-RPC provider every PinFi process uses to reach the chain: a fixed chain (no network detection loop), no
// response cache (reorgs must be seen), one request per HTTP call, a per-request timeout, and receipts polled on a
// timer rather than only on new blocks.
//
// Why the timer: ethers' TransactionResponse.wait() looks for the receipt once, then waits for a block event. A
// transaction mined between that look and the block poller's first reading is in a block the poller counts as
// already seen, so wait() waits for the *next* block. On a chain that mines only when it receives a transaction
// (anvil's automine, used locally and in tests) that block may never come, and wait() hangs (seen in CI: a test
// that minted tokens waited until another test's transaction mined a block).
import { FetchRequest, JsonRpcProvider, Network, type Subscriber, type TransactionReceipt } from 'ethers';

type Subscription = Parameters<JsonRpcProvider['_getSubscriber']>[0];

/** Looks for one transaction's receipt every `intervalMs` and emits it under the transaction's hash. */
class TimedReceiptSubscriber implements Subscriber {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly hash: string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  pause(): void {
    this.stop();
  }

  resume(): void {
    this.start();
  }

  private async poll(): Promise<void> {
    let receipt: TransactionReceipt | null = null;
    try {
      receipt = await this.provider.getTransactionReceipt(this.hash);
    } catch {
      // A failed look is retried at the next tick; wait()'s own timeout (if any) bounds the whole wait.
    }
    if (!this.running) return;
    if (receipt) void this.provider.emit(this.hash, receipt);
    if (!this.running) return;
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
    this.timer.unref?.();
  }
}

/** A JsonRpcProvider whose transaction subscriptions (what wait() listens to) poll the receipt on a timer. */
export class ChainProvider extends JsonRpcProvider {
  override _getSubscriber(sub: Subscription): Subscriber {
    if (sub.type === 'transaction') return new TimedReceiptSubscriber(this, sub.hash, this.pollingInterval);
    return super._getSubscriber(sub);
  }
}

/** The settlement client's provider (see the top of this file); `pollingIntervalMs` also paces receipt looks. */
export function createProvider(rpcUrl: string, chainId: bigint | number, opts: { timeoutMs?: number; pollingIntervalMs?: number } = {}): JsonRpcProvider {
  const request = new FetchRequest(rpcUrl);
  request.timeout = opts.timeoutMs ?? 15_000;
  return new ChainProvider(request, Network.from(BigInt(chainId)), {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
    pollingInterval: opts.pollingIntervalMs ?? 1_000,
  });
}
