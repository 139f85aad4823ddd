// Bad input and faults of the platform: each gives a clear error naming the component, within a
// bounded time, and nothing half-made is trusted.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAnvil } from '../env/anvil.js';
import { repoRoot } from '../env/paths.js';

const run = promisify(execFile);

async function buildScript(env: NodeJS.ProcessEnv, what: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run('bash', [join(repoRoot, 'scripts', 'build-binaries.sh'), what], { env, timeout: 30_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

test('without a Go toolchain the build says so and how to do without one', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'pinfi-cache-'));
  const r = await buildScript({ PATH: '/usr/bin:/bin', HOME: cache, PINFI_CACHE_DIR: cache }, 'kwok');
  expect(r.code).not.toBe(0);
  expect(r.out).toMatch(/no Go toolchain on PATH/);
  expect(r.out).toMatch(/PINFI_\*_BINARY/);
});

test('a corrupted cache entry is detected and rebuilt, not trusted', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'pinfi-cache-'));
  const entry = join(cache, 'bin', 'kwok-v0.8.0');
  mkdirSync(entry, { recursive: true });
  writeFileSync(join(entry, 'kwok'), 'not a binary', { mode: 0o755 });
  writeFileSync(join(entry, 'kwokctl'), 'not a binary either', { mode: 0o755 });
  writeFileSync(join(entry, 'MANIFEST.sha256'), `${'0'.repeat(64)}  kwok\n${'0'.repeat(64)}  kwokctl\n`);
  // No Go on PATH: a trusted entry would print "cached"; a distrusted one tries to rebuild and fails clearly.
  const r = await buildScript({ PATH: '/usr/bin:/bin', HOME: cache, PINFI_CACHE_DIR: cache }, 'kwok');
  expect(r.out).not.toMatch(/cached in/);
  expect(r.out).toMatch(/no Go toolchain/);
});

test('an unknown component is refused', async () => {
  const r = await buildScript({ ...process.env }, 'kubelet');
  expect(r.code).not.toBe(0);
  expect(r.out).toMatch(/unknown component 'kubelet'/);
});

test('a port in use is an error that names the component and the port, not a hang', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  try {
    await expect(startAnvil({ port })).rejects.toThrow(new RegExp(`anvil: port ${port} is in use`));
  } finally {
    srv.close();
  }
});

test('a component that exits at start is reported with its log instead of waited for', async () => {
  await expect(startAnvil({ extraArgs: ['--no-such-flag'] })).rejects.toThrow(/anvil exited \(code \d+\) before eth_chainId.*log/s);
});
