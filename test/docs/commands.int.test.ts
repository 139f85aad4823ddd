// Every command the docs show (```sh/bash/shell/console blocks of README.md and docs/*.md) runs
// against a local market started with `npm start`, in document order, as a reader would type
// it: bash, with the market's KUBECONFIG, PINFI_RPC_URL and PINFI_ESCROW_ADDRESS exported (the
// lines npm start prints) and `kubectl pinfi`/`pinfi` on PATH. A command that fails fails the
// test. Commands that cannot run here are listed below with the reason; a new one that cannot
// run must be added there, and an entry no document shows any more fails too.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../env/paths.js';
import { shell, startMarket, type RunningMarket } from '../local-market/npm-start.js';
import { documentedCommands, type DocCommand } from './extract.js';

const NAME = `pinfi-docs-${process.pid}`;

/** Commands not run, with why. Keys are the commands exactly as extracted (comments dropped). */
const NOT_RUN: Readonly<Record<string, string>> = {
  // README.md
  'npm start': 'this test runs it (scripts/start.ts as a child process; the browser test also stops it with Ctrl-C)',
  'npm test': 'the suite this test is part of',
  'kubectl pinfi simulate --out simulation-out': 'replays the whole OpenB trace for minutes; the simulator has its own tests',
  // docs/cli.md
  'cast wallet sign --ledger --data --from-file eval.json': "needs a Ledger hardware wallet and foundry's cast",
  'kubectl pinfi sign --lease eval --typed-data eval.json --signature 0x…':
    "the signature comes from the external wallet of the step before; test/cli/market.int.test.ts runs this flow with a wallet's signature",
  'npm run -s test:jest -- --selectProjects unit --testPathPatterns cli/': 'runs tests (this suite)',
  'npm run -s test:jest -- --selectProjects integration --testPathPatterns test/cli': 'runs tests (this suite)',
  // docs/install.md: a production install on a real cluster with the Helm chart
  'pinfi deploy-escrow --rpc-url https://base-mainnet.example/v2/KEY --token 0xTOKEN --admin 0xADMIN_MULTISIG --settler 0xSETTLER --treasury 0xTREASURY --key-file deployer.key --confirmations 3':
    'deploys to a public chain with real keys (placeholders); test/cli/chain.int.test.ts deploys on anvil',
  'kubectl create namespace pinfi-system': 'step of the Helm install on a real cluster (install.md)',
  'kubectl -n pinfi-system create secret generic pinfi-settler --from-file=private-key=./settler.key': "step of the Helm install: needs the operator's settler key file",
  'shred -u ./settler.key': 'step of the Helm install: removes the settler key file',
  'helm install pinfi ./charts/pinfi -n pinfi-system -f values.yaml --wait': "needs the reader's values.yaml and a cluster that runs images; test/chart installs the chart",
  'kubectl -n pinfi-system get deploy,pods': 'needs the Helm release',
  'kubectl -n pinfi-system get lease pinfi-operator pinfi-scheduler': 'needs the Helm release (its leader-election Leases)',
  "kubectl -n pinfi-system logs deploy/pinfi-operator | grep -m1 'settlement chain connected'": 'needs the Helm release',
  'kubectl -n ml-team-c create rolebinding pinfi-authorization-secret-reader --clusterrole=pinfi-authorization-secret-reader --serviceaccount=pinfi-system:pinfi-operator':
    "needs the Helm release's ClusterRole and the reader's namespace",
  'kubectl pinfi join gpu-node-7 --pool a100 --payout-address 0xPROVIDER': "the reader's node and payout address (placeholders); test/cli/market.int.test.ts runs join",
  'kubectl pinfi lease train --pool a100 --gpus 4 --hours 6 --payer 0xPAYER': "the reader's payer address (placeholder); README's quick start runs this flow",
  'kubectl pinfi sign --lease train --key-file payer.key': 'signs the lease of the line before (placeholder payer, not run); cli.md and README.md run sign',
  'helm diff upgrade pinfi ./charts/pinfi -n pinfi-system -f values.yaml': 'needs the helm-diff plugin and the Helm release',
  'helm upgrade pinfi ./charts/pinfi -n pinfi-system -f values.yaml --wait': 'needs the Helm release',
  'helm uninstall pinfi -n pinfi-system': 'needs the Helm release',
  'kubectl get computeleases -A': 'run from README.md; in install.md it checks an uninstalled release',
  'kubectl delete crd computeleases.pinfi.io gpupools.pinfi.io': 'would remove the CRDs from the market the rest of the docs run against',
  // docs/settlement.md
  'npx tsx contracts/compile.ts --force': 'rewrites contracts/artifacts (~15 s) while other tests may read them; the command without --force runs',
  'npm run test:jest -- --selectProjects unit --testPathPatterns test/settlement': 'runs tests (this suite)',
  'npm run test:jest -- --selectProjects integration --testPathPatterns test/settlement': 'runs tests (this suite)',
  // docs/simulation.md
  'npx tsx simulator/main.ts': 'replays OpenB with five seeds and four policies: many minutes',
  'npx tsx simulator/main.ts --capacity-scale 0.005 --single-pool --plot-from-day 112': 'replays OpenB: minutes',
  'npx tsx simulator/main.ts --goals': 'replays OpenB twice at two scales: many minutes',
  'npx tsx bench/simulate.ts': 'a benchmark: times the whole OpenB replay',
};

/**
 * Values only a running market knows, written as placeholders in the docs (npm start prints them).
 * The README's KUBECONFIG names the default cluster; the test's market has a name of its own.
 */
function substitute(command: string, m: RunningMarket): string {
  return command
    .replaceAll('<operator port>', new URL(m.operatorUrl).port)
    .replaceAll('<anvil port>', new URL(m.rpcUrl).port)
    .replaceAll('$PWD/.pinfi/kwok/pinfi-local/', `${repoRoot}/.pinfi/kwok/${m.name}/`)
    .replace(/^curl /, 'curl -fsS ');
}

const files = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const commands: DocCommand[] = files.flatMap((f) => documentedCommands(f, readFileSync(join(repoRoot, f), 'utf8')));
// All run in one directory (a file one command writes, such as README's payer.key, is there for
// the next), each with the variables its block's earlier `export` lines set.
const toRun = commands.filter((c) => !(c.command in NOT_RUN) || (c.command === 'kubectl get computeleases -A' && c.file === 'README.md'));
const dir = mkdtempSync(join(tmpdir(), 'pinfi-docs-'));
let market: RunningMarket;

beforeAll(async () => {
  // No demo demand: the documented commands see the example pools and leases only.
  market = await startMarket(NAME, ['--demand', '0', '--no-ui']);
}, 600_000);

afterAll(async () => {
  await market?.interrupt();
});

test('every documented command is run below or listed as not runnable with a reason, and every listed one is still documented', () => {
  const shown = new Set(commands.map((c) => c.command));
  expect(Object.keys(NOT_RUN).filter((c) => !shown.has(c))).toEqual([]);
  expect(toRun.length).toBeGreaterThanOrEqual(20);
  for (const c of toRun) expect(substitute(c.command, market)).not.toMatch(/0x…|<[a-z ]+>/);
});

test.each(toRun.map((c) => [`${c.file}:${c.line}`, c] as const))('%s', async (_where, c) => {
  const exports = commands.filter((e) => e.file === c.file && e.block === c.block && e.line < c.line && e.command.startsWith('export '));
  const line = [...exports.map((e) => substitute(e.command, market)), substitute(c.command, market)].join('\n');
  // `npx tsx <file>` and npm scripts name the repository's files: they run in its root.
  const r = await shell(market, line, /^(npx tsx|npm) /.test(c.command) ? repoRoot : dir, dir);
  if (r.code !== 0) throw new Error(`${c.file}:${c.line}: \`${c.command}\` exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  expect(r.code).toBe(0);
});
