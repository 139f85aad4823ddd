// Child processes of the local environment: each writes to its own log file, is waited for with a
// bounded readiness check, and is killed with its whole process group on stop or when this
// process exits, so a test run or Ctrl-C leaves no orphans.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';

export type Managed = {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<string>;
  stop(timeoutMs?: number): Promise<void>;
};

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

const live = new Set<Managed>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const m of live) killGroup(m.pid, 'SIGKILL');
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Last lines of a log file, for error messages. */
export function tail(file: string, lines = 8): string {
  if (!existsSync(file)) return '(no log yet)';
  const text = readFileSync(file, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

export type StartOptions = {
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
};

/** Starts a process in its own process group with stdout and stderr appended to logFile. */
export function startProcess(opts: StartOptions): Managed {
  hookExit();
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  // With util-linux's setpriv, the child is also killed by the kernel if this process dies
  // without running its exit hooks (kill -9, a crash): no orphaned anvil or operator.
  const [command, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', opts.command, ...opts.args]] : [opts.command, [...opts.args]];
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  // Two sources into one log: neither may end it (pipe's default), or the other's last lines
  // hit a closed stream ("write after end"); it is ended when the process exits.
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const exited = new Promise<string>((resolve) => {
    child.on('error', (err) => resolve(`failed to start: ${err.message}`));
    child.on('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
  });
  if (child.pid === undefined) {
    throw new Error(`${opts.name}: could not start ${opts.command} (see ${opts.logFile})`);
  }
  const pid = child.pid;
  let done = false;
  void exited.then(() => {
    done = true;
    live.delete(managed);
  });
  // 'close' comes after both output streams have ended: only then is the log complete.
  child.on('close', () => out.end());
  const managed: Managed = {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    child,
    exited,
    async stop(timeoutMs = 5_000) {
      if (done) return;
      killGroup(pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
    },
  };
  live.add(managed);
  return managed;
}

/**
 * Polls `probe` until it returns true, the process exits, or timeoutMs passes. Throws an error
 * naming the component, what it waited for and the tail of its log.
 */
export async function waitReady(
  m: Pick<Managed, 'name' | 'logFile' | 'exited'>,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  let exitedWith: string | undefined;
  void m.exited.then((s) => (exitedWith = s));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitedWith !== undefined) {
      throw new Error(`${m.name} exited (${exitedWith}) before ${what}; log ${m.logFile}:\n${tail(m.logFile)}`);
    }
    try {
      if (await probe()) return;
    } catch {
      /* not ready yet */
    }
    if (Date.now() > deadline) {
      throw new Error(`${m.name} not ready after ${timeoutMs} ms (${what}); log ${m.logFile}:\n${tail(m.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
