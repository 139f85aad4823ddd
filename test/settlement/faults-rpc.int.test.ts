// The chain client behind an RPC endpoint that drops connections (before the node sees the request, or after,
// losing the answer to a sent transaction), answers too late, or answers 5xx. In every mode each lease must end
// opened once and settled once, and the client must say it is waiting for the RPC endpoint.
import { ChainClient, createProvider, leaseIdOf, type SignedAuthorization } from '../../operator/src/settlement/index.js';
import { FaultMode, startRpcProxy } from './rpc-proxy.js';
import { USDC, deployMarket, expectOpenedAndSettledOnce, newPayer, recordingLogger, signed, startChain, type Market } from './fixtures.js';

let m: Market;
let stop: () => Promise<void>;

beforeAll(async () => {
  const { anvil, provider } = await startChain();
  stop = () => anvil.stop();
  m = await deployMarket(anvil, provider);
});
afterAll(() => stop());

const LEASES = 3;

type Mode = { mode: FaultMode; rate: number; methods?: readonly string[]; what: string; says?: RegExp };

const modes: Mode[] = [
  { mode: FaultMode.Drop, rate: 0.3, what: 'connections dropped before the node sees 30 % of requests' },
  { mode: FaultMode.DropAnswer, rate: 0.3, what: 'answers lost after the node handled 30 % of requests' },
  { mode: FaultMode.DropAnswer, rate: 1, methods: ['eth_sendRawTransaction'], what: 'the answer to every eth_sendRawTransaction lost', says: /answer to eth_sendRawTransaction was lost .* not sending it again/ },
  { mode: FaultMode.Delay, rate: 0.25, what: 'answers to 25 % of requests arrive after the client gave up' },
  { mode: FaultMode.ServerError, rate: 0.3, what: '502/503 for 30 % of requests' },
];

test.each(modes)('$what: every lease opened once and settled once', async ({ mode, rate, methods, says = /waiting for the RPC endpoint/ }) => {
  // Payers are set up directly against anvil; only the operator's client goes through the faulty endpoint.
  const auths: SignedAuthorization[] = [];
  for (let i = 0; i < LEASES; i++) auths.push(await signed(await newPayer(m, USDC('4')), m));
  const proxy = await startRpcProxy(m.anvil.rpcUrl, { seed: 1 + Math.round(rate * 100) + mode.length, delayMs: 600 });
  const log = recordingLogger(Boolean(process.env.PINFI_TEST_ECHO));
  const seen = new Set<string>();
  try {
    const client = await ChainClient.connect({
      provider: createProvider(proxy.url, m.anvil.chainId, { timeoutMs: 300 }),
      signer: m.settler,
      escrowAddress: m.escrowAddress,
      tx: { pollIntervalMs: 20 },
      retry: { budgetMs: 30_000, baseMs: 10, maxMs: 100 },
      batch: { maxSize: 10, windowMs: 50 },
      logger: log,
    });
    proxy.set(mode, rate, methods);
    const watcher = setInterval(() => client.waitingFor().forEach((w) => seen.add(w)), 5);
    try {
      const opened = await Promise.all(auths.map((a) => client.openLease(a, USDC('4'))));
      // A lost answer may hide an open that did happen; a later attempt then finds it on-chain.
      expect(opened.every((o) => o.status === 'opened' || o.status === 'already-open')).toBe(true);
      const settled = await Promise.all(opened.map((o) => client.settleLease({ leaseId: o.leaseId, providers: [{ address: m.treasury.address, amount: USDC('3.9') }], fee: USDC('0.1'), refund: 0n, reason: 'Completed' })));
      expect(settled.every((s) => s.status === 'settled' || s.status === 'already-settled')).toBe(true);
    } finally {
      clearInterval(watcher);
    }
  } finally {
    proxy.set(mode, 0);
    await proxy.close();
  }
  expect(proxy.stats.faults).toBeGreaterThan(0);
  if (process.env.PINFI_TEST_ECHO) console.log([...seen].join('\n'));
  expect([...seen, ...log.lines].some((w) => says.test(w))).toBe(true);
  await expectOpenedAndSettledOnce(m, auths.map((a) => leaseIdOf(a.terms)));
});
