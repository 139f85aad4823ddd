// The real operator as a child process (tsx running operator/src/main.ts), for tests that need
// to kill and restart it.
import { join } from 'node:path';
import { startProcess, waitReady, type Managed } from './process.js';
import { freePort } from './ports.js';
import { repoRoot, runDir } from './paths.js';

export type OperatorProcess = {
  readonly url: string;
  readonly process: Managed;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** kill -9: no cleanup at all. */
  kill(): Promise<void>;
};

export async function startOperatorProcess(opts: {
  kubeconfig: string;
  args?: readonly string[];
  name?: string;
  env?: NodeJS.ProcessEnv;
  /** Run the compiled operator (dist/, `npm run build`) with plain node, as the image does, instead of tsx. */
  compiled?: boolean;
}): Promise<OperatorProcess> {
  const port = await freePort();
  const name = opts.name ?? `operator-${port}`;
  // The test environment's own PINFI_RPC_URL is not meant for the operator (which would read it
  // as its chain): pass chain settings only through args or opts.env.
  const { PINFI_RPC_URL: _rpc, PINFI_ESCROW_ADDRESS: _escrow, PINFI_SETTLER_KEY: _key, ...inherited } = process.env;
  const proc = startProcess({
    name,
    command: opts.compiled ? process.execPath : join(repoRoot, 'node_modules', '.bin', 'tsx'),
    args: [opts.compiled ? join(repoRoot, 'dist', 'operator', 'src', 'main.js') : join(repoRoot, 'operator', 'src', 'main.ts'), '--kubeconfig', opts.kubeconfig, '--http-host', '127.0.0.1', '--http-port', String(port), ...(opts.args ?? [])],
    logFile: join(runDir, 'logs', `${name}.log`),
    env: { ...inherited, ...opts.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/readyz`, async () => (await fetch(`${url}/readyz`)).ok, 60_000);
  return {
    url,
    process: proc,
    stop: () => proc.stop(20_000),
    async kill() {
      process.kill(-proc.pid, 'SIGKILL');
      await proc.exited;
    },
  };
}
