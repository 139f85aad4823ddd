// `npm start` as a user runs it: scripts/start.ts through tsx in a child process, with the
// small node set, a cluster name of the test's own and a free port for the browser view. Reads
// the addresses it prints, and stops it with SIGINT (Ctrl-C) as a user does.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../env/paths.js';

export type RunningMarket = {
  readonly name: string;
  readonly kubeconfig: string;
  readonly rpcUrl: string;
  readonly escrow: string;
  readonly token: string;
  readonly operatorUrl: string;
  /** The browser view's address (undefined with --no-ui). */
  readonly webUrl: string | undefined;
  /** Everything it printed so far. */
  output(): string;
  /** Ctrl-C: resolves with the exit code and what it printed. */
  interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
};

/** Starts `npm start -- ARGS` and resolves once it prints its header (the market is up). */
export function startMarket(name: string, args: readonly string[], timeoutMs = 300_000): Promise<RunningMarket> {
  const child: ChildProcess = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), [join(repoRoot, 'scripts', 'start.ts'), '--nodes', 'small', '--name', name, '--ui-port', '0', '--plain', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`npm start printed no header within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code ?? signal}) before the market was up:\n${out}`));
    });
    const check = () => {
      const m = {
        kubeconfig: /export KUBECONFIG=(\S+)/.exec(out)?.[1],
        chain: /chain:\s+(\S+)\s+escrow (0x[0-9a-fA-F]{40})\s+token (0x[0-9a-fA-F]{40})/.exec(out),
        operator: /operator: (http:\/\/\S+)\/pools/.exec(out)?.[1],
        web: /browser:\s+(http:\/\/\S+)/.exec(out)?.[1],
      };
      const wantsUi = !args.includes('--no-ui');
      if (!m.kubeconfig || !m.chain || !m.operator || (wantsUi && !m.web)) return;
      child.stdout?.off('data', check);
      clearTimeout(timer);
      resolve({
        name,
        kubeconfig: m.kubeconfig,
        rpcUrl: m.chain[1] as string,
        escrow: m.chain[2] as string,
        token: m.chain[3] as string,
        operatorUrl: m.operator,
        webUrl: m.web,
        output: () => out,
        async interrupt() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          const r = await exited;
          return { ...r, output: out };
        },
      });
    };
    child.stdout?.on('data', check);
  });
}

/** Processes whose command line mentions `needle` (this cluster's folder or config), as "pid: cmdline". */
export function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(needle)) found.push(`${pid}: ${cmd.slice(0, 200)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

/**
 * Runs one shell command line as a user of this market types it (in `cwd`, with a throwaway
 * HOME): bash, KUBECONFIG and the chain
 * settings exported, and on PATH the real kubectl with `kubectl pinfi` (bin/kubectl-pinfi.mjs)
 * and `pinfi` (bin/pinfi.mjs). Resolves with the exit code and output; never rejects on failure.
 */
export function shell(market: Pick<RunningMarket, 'kubeconfig' | 'rpcUrl' | 'escrow' | 'operatorUrl'>, line: string, cwd: string, home = cwd): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = join(home, '.bin');
  mkdirSync(bin, { recursive: true });
  const links: Record<string, string> = {
    kubectl: process.env.PINFI_KUBECTL ?? 'kubectl',
    'kubectl-pinfi': join(repoRoot, 'bin', 'kubectl-pinfi.mjs'),
    pinfi: join(repoRoot, 'bin', 'pinfi.mjs'),
  };
  for (const [name, target] of Object.entries(links)) if (!existsSync(join(bin, name))) symlinkSync(target, join(bin, name));
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    HOME: home,
    KUBECONFIG: market.kubeconfig,
    PINFI_RPC_URL: market.rpcUrl,
    PINFI_ESCROW_ADDRESS: market.escrow,
    PINFI_OPERATOR_URL: market.operatorUrl,
  };
  return new Promise((resolve) => {
    execFile('bash', ['-o', 'pipefail', '-c', line], { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: err && code === -1 ? `${stderr}\n${err.message}` : stderr });
    });
  });
}
