// `npm start` end to end, looked at in headless Chromium (Debian's chromium package, installed
// by scripts/ensure-chromium.mjs when missing, driven by playwright-core): the page shows the
// pools with prices and charts, the lease table, and a lease that ends settling with its
// transaction hash; lease pods are placed by the second scheduler through the extender; Ctrl-C
// leaves no process behind. A screenshot lands in .pinfi/screenshots/ (and in docs/img/ with
// PINFI_UPDATE_SCREENSHOT=1).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PAYER_KEYS } from '../../local-market/accounts.js';
import { kubectlRun } from '../env/cluster.js';
import { repoRoot, runDir } from '../env/paths.js';
import { eventually } from '../env/testing.js';
import { processesMentioning, shell, startMarket, type RunningMarket } from './npm-start.js';

const NAME = `pinfi-browser-${process.pid}`;
const cwd = mkdtempSync(join(tmpdir(), 'pinfi-browser-'));
let market: RunningMarket;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** Waits until the page's expression `js` is true (it is evaluated in the browser). */
const until = (js: string, timeoutMs: number) => page.waitForFunction(js, undefined, { timeout: timeoutMs });
/** A browser expression: a row of table `table` contains every one of `texts`. */
const rowWith = (table: string, ...texts: string[]) =>
  `[...document.querySelectorAll('${table} tbody tr')].some((r) => ${JSON.stringify(texts)}.every((t) => r.textContent.includes(t)))`;

const kubectl = (args: readonly string[]) => kubectlRun(process.env.PINFI_KUBECTL ?? 'kubectl', market.kubeconfig, args);

beforeAll(async () => {
  // Progress of an apt-get install goes to the test's stderr.
  const executablePath = execFileSync(process.execPath, [join(repoRoot, 'scripts', 'ensure-chromium.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  // A seeded demand that fills the small node set's A100s, so their price moves.
  market = await startMarket(NAME, ['--demand', '12', '--seed', '7']);
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(market.webUrl as string);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await market?.interrupt();
});

test('the page shows the three pools with a price and utilisation, each with price and utilisation charts drawn from several samples', async () => {
  await until(`document.querySelectorAll('.pool').length === 3`, 60_000);
  // Charts need two samples or more (the view samples every 2 s).
  await until(`document.querySelectorAll('.pool svg polyline').length === 6`, 60_000);
  const pools = await page.$$eval('.pool', (els) =>
    els.map((el) => ({
      name: el.getAttribute('data-pool'),
      text: el.textContent ?? '',
      price: el.querySelector('.price')?.textContent ?? '',
      charts: [...el.querySelectorAll('svg polyline')].map((p) => (p.getAttribute('points') ?? '').trim().split(/\s+/).length),
    })),
  );
  expect(pools.map((p) => p.name).sort()).toEqual(['a100', 't4', 'v100']);
  for (const p of pools) {
    expect(p.price).toMatch(/^\d+\.\d{2}$/);
    expect(Number(p.price)).toBeGreaterThan(0);
    expect(p.text).toMatch(/\d+ of \d+ GPUs free · utilisation \d+%/);
    expect(p.charts).toHaveLength(2);
    for (const n of p.charts) expect(n).toBeGreaterThanOrEqual(2);
  }
  // The small node set: 8 + 8 + 7 (one unhealthy) + 4 whole A100s; 4 + 4 + 2 T4s; no V100s.
  expect(pools.find((p) => p.name === 'a100')?.text).toMatch(/ of 27 GPUs free/);
  expect(pools.find((p) => p.name === 't4')?.text).toMatch(/ of 10 GPUs free/);
});

test('the lease table fills in: the example leases become Active with a price', async () => {
  await until(rowWith('#leases', 'team-a/train-a100', 'Active'), 120_000);
  const rows = await page.$$eval('#leases tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  const train = rows.find((r) => r[0] === 'team-a/train-a100');
  expect(train).toEqual(['team-a/train-a100', 'a100', '4', 'Active', expect.stringMatching(/^\d+\.\d{2}$/), expect.stringMatching(/^\d+\.\d{2}$/), expect.stringMatching(/\d/)]);
  expect(Number(train?.[4])).toBeGreaterThanOrEqual(2); // the a100 floor is 2 USDC per GPU-hour
});

test('lease pods go through the admission webhook and are placed by the second kube-scheduler on their reserved GPUs', async () => {
  const pod = await eventually('train-a100-0 bound to a node', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'train-a100-0', '-n', 'team-a', '-o', 'json'])) as V1Pod;
    return p.spec?.nodeName ? p : undefined;
  }, 120_000, 1_000);
  expect(pod.spec?.schedulerName).toBe('pinfi');
  expect(pod.spec?.tolerations).toContainEqual(expect.objectContaining({ key: 'pinfi.io/pool', value: 'a100', effect: 'NoSchedule' }));
  expect(pod.spec?.nodeName).toMatch(/^gpu-a100-\d$/);
  const node = JSON.parse(await kubectl(['get', 'node', pod.spec?.nodeName ?? '', '-o', 'json'])) as { metadata: { labels: Record<string, string> } };
  expect(node.metadata.labels['nvidia.com/gpu.product']).toBe('NVIDIA-A100-SXM4-80GB');
  // The Scheduled event names the scheduler that bound it: the `pinfi` profile, not default-scheduler.
  const events = JSON.parse(await kubectl(['get', 'events', '-n', 'team-a', '--field-selector', 'involvedObject.name=train-a100-0,reason=Scheduled', '-o', 'json'])) as {
    items: { reportingComponent?: string; source?: { component?: string }; message?: string }[];
  };
  expect(events.items.map((e) => [e.reportingComponent || e.source?.component, e.message])).toEqual([['pinfi', `Successfully assigned team-a/train-a100-0 to ${pod.spec?.nodeName}`]]);
});

test('a lease pod that goes away, as a pre-empted lease\'s pod is evicted, comes back and is placed on the lease\'s GPUs again', async () => {
  const before = JSON.parse(await kubectl(['get', 'pod', 'train-a100-0', '-n', 'team-a', '-o', 'json'])) as V1Pod;
  await kubectl(['delete', 'pod', 'train-a100-0', '-n', 'team-a', '--wait=true']);
  const again = await eventually('train-a100-0 recreated and bound', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'train-a100-0', '-n', 'team-a', '-o', 'json'])) as V1Pod;
    return p.metadata?.uid !== before.metadata?.uid && p.spec?.nodeName ? p : undefined;
  }, 60_000, 1_000);
  const lease = JSON.parse(await kubectl(['get', 'computelease', 'train-a100', '-n', 'team-a', '-o', 'json'])) as { status: { reservation: { node: string }[] } };
  expect(lease.status.reservation.map((r) => r.node)).toContain(again.spec?.nodeName);
  expect(again.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ComputeLease', name: 'train-a100' });
});

test('a lease created and signed with kubectl pinfi runs, ends, settles, and its settlement shows on the page with its transaction hash', async () => {
  writeFileSync(join(cwd, 'payer.key'), `${PAYER_KEYS['team-a']}\n`, { mode: 0o600 });
  const created = await shell(market, 'kubectl pinfi lease quick --pool t4 --gpus 1 --duration 1m -n team-a --key-file payer.key', cwd);
  expect(created).toMatchObject({ code: 0 });
  await until(rowWith('#settlements', 'team-a/quick'), 300_000);
  const row = await page.$$eval('#settlements tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')).find((r) => r[0] === 'team-a/quick'),
  );
  expect(row).toEqual(['team-a/quick', 'Completed', expect.stringMatching(/^\d+\.\d{2}$/), expect.stringMatching(/^0x[0-9a-f]{64}$/)]);
  const lease = JSON.parse(await kubectl(['get', 'computelease', 'quick', '-n', 'team-a', '-o', 'json'])) as { status: { phase: string; chain: { settleTx: string } } };
  expect(lease.status.phase).toBe('Settled');
  expect(row?.[3]).toBe(lease.status.chain.settleTx);
  // The leases table shows it settled too.
  await until(rowWith('#leases', 'team-a/quick', 'Settled'), 10_000);

  const shotDir = join(runDir, 'screenshots');
  mkdirSync(shotDir, { recursive: true });
  const shot = join(shotDir, 'local-market.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (process.env.PINFI_UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(repoRoot, 'docs', 'img', 'local-market.png'));
});

test('the page logged no errors in the browser console', () => {
  expect(consoleErrors).toEqual([]);
});

test('Ctrl-C stops the market and leaves no process of it behind', async () => {
  const anvilPort = new URL(market.rpcUrl).port;
  const { code, output } = await market.interrupt();
  expect(code).toBe(0);
  expect(output).toMatch(/\[pinfi\] SIGINT: stopping[\s\S]*\[pinfi\] stopped; no processes left behind\./);
  expect([
    ...processesMentioning(`kwok/${NAME}/`),
    ...processesMentioning(`pinfi-scheduler-${NAME}`),
    ...processesMentioning(`--port ${anvilPort} `),
  ]).toEqual([]);
});
