// `npm start`: the local PinFi market — a real Kubernetes control plane with simulated GPU nodes
// from the Alibaba OpenB node list, anvil with the escrow, the operator, the scheduler extension
// (extender, admission webhook, second kube-scheduler), the example pools and leases, a seeded
// stream of demo leases, and a live view in the terminal and the browser.
// Ctrl-C tears everything down.
import { Command, InvalidArgumentError } from 'commander';
import { join } from 'node:path';
import { openbNodeSet, smallNodeSet, type OpenbModel } from '../test/env/gpu-nodes.js';
import { repoRoot } from '../test/env/paths.js';
import { keepWorkloads, runDemand, startLocalMarket } from '../local-market/market.js';
import { MarketSampler } from '../local-market/state.js';
import { renderTerminal } from '../local-market/view-terminal.js';
import { startWebView } from '../local-market/view-web.js';

const OPENB_NODES = join(repoRoot, '..', 'shared', 'data', 'alibaba-openb-2023', 'openb_node_list_gpu_node.csv');
const num = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`must be a number from ${min} to ${max}`);
  return n;
};

const program = new Command('npm start --')
  .description('Run a local PinFi market until Ctrl-C: control plane, GPU nodes, chain, operator, demo demand and a live view.')
  .option('--nodes <set>', 'openb (three pools from the Alibaba OpenB node list) or small (9 nodes)', 'openb')
  .option('--every <k>', 'with --nodes openb: keep every k-th node of each model (1 = all 983)', num(1, 100), 8)
  .option('--demand <perMinute>', 'demo lease arrivals per minute (0: none)', num(0, 600), 20)
  .option('--seed <n>', 'seed of the demo demand', num(0, 2 ** 31), 1)
  .option('--ui-port <port>', 'port of the browser view on 127.0.0.1 (0: a free port)', num(0, 65535), 8090)
  .option('--no-ui', 'no browser view')
  .option('--plain', 'print a new view every few seconds instead of redrawing the screen')
  .option('--name <name>', 'cluster name', 'pinfi-local')
  .option('--anvil-port <port>', 'anvil JSON-RPC port (default: a free port)', num(1, 65535))
  .addHelpText('after', '\nExamples:\n  npm start\n  npm start -- --every 1 --demand 60\n  npm start -- --nodes small --no-ui\n');

async function main(): Promise<void> {
  program.parse(process.argv);
  const o = program.opts<{ nodes: string; every: number; demand: number; seed: number; uiPort: number; ui: boolean; plain?: boolean; name: string; anvilPort?: number }>();
  if (o.nodes !== 'small' && o.nodes !== 'openb') throw new Error(`--nodes must be openb or small, not ${o.nodes}`);
  const models: OpenbModel[] = ['G2', 'T4', 'V100M32'];
  const nodes = o.nodes === 'small' ? smallNodeSet() : openbNodeSet(OPENB_NODES, { models, every: o.every });
  const log = (l: string) => console.log(l);
  const market = await startLocalMarket({ name: o.name, nodes, log, ...(o.anvilPort !== undefined ? { anvilPort: o.anvilPort } : {}) });
  const stop = new AbortController();
  const sampler = new MarketSampler(market.operatorUrl);
  sampler.run(2_000, stop.signal);
  const web = o.ui ? await startWebView(sampler, o.uiPort) : undefined;
  const errors: string[] = [];
  const onError = (e: unknown) => errors.push(String((e as Error).message ?? e).slice(0, 200));
  const demand = Promise.all([o.demand > 0 ? runDemand(market, o.demand, o.seed, stop.signal, onError) : undefined, keepWorkloads(market, stop.signal, onError)]);
  const header = [
    'PinFi local market — Ctrl-C stops everything',
    `  kubectl:  export KUBECONFIG=${market.env.cluster.kubeconfig}   (kubectl get gpupools; kubectl get computeleases -A)`,
    `  chain:    ${market.env.anvil.rpcUrl}  escrow ${market.chain.escrow}  token ${market.chain.token}`,
    `  pinfi:    export PINFI_RPC_URL=${market.env.anvil.rpcUrl} PINFI_ESCROW_ADDRESS=${market.chain.escrow}   (kubectl pinfi sign, approve, withdraw)`,
    `  operator: ${market.operatorUrl}/pools  /leases  /quote?pool=a100&gpus=4&hours=2  /metrics`,
    `  scheduler: kube-scheduler "pinfi" with the extender at ${market.scheduling.plugin.extenderUrl}; lease pods: kubectl get pods -A -l pinfi.io/lease -o wide`,
    web ? `  browser:  ${web.url}` : '',
  ].filter(Boolean).join('\n');
  console.log(header);
  const redraw = !o.plain && process.stdout.isTTY;
  const tick = setInterval(() => {
    const view = renderTerminal(sampler.state, header) + (errors.length ? `recent errors: ${errors.slice(-2).join(' | ')}\n` : '');
    process.stdout.write(redraw ? `\x1b[H\x1b[2J${view}` : `${view}\n`);
  }, redraw ? 2_000 : 10_000);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(tick);
    console.log(`\n[pinfi] ${signal}: stopping the demand, the views, the operator, the scheduler extension, the control plane and anvil…`);
    stop.abort();
    await demand.catch(() => undefined);
    web?.server.close();
    await market.stop();
    console.log('[pinfi] stopped; no processes left behind.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
}

main().catch((e: unknown) => {
  console.error(`[pinfi] ${(e as Error).message}`);
  process.exit(1);
});
