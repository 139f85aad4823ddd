// Finds a headless-capable Chromium for the browser test (test/local-market/browser.int.test.ts),
// installing Debian's `chromium` package with apt-get when it is missing and this process may
// (root, apt-get present). Prints the binary's path on stdout; progress and apt's output go to
// stderr. Plain JavaScript so it runs anywhere Node does, before any TypeScript tooling:
//   node scripts/ensure-chromium.mjs            # → /usr/bin/chromium
// PINFI_CHROMIUM names a binary to use instead (Chrome, Chromium from elsewhere).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function find() {
  const given = process.env.PINFI_CHROMIUM;
  if (given) {
    if (!executable(given)) throw new Error(`PINFI_CHROMIUM=${given} is not an executable file`);
    return given;
  }
  for (const name of NAMES) {
    const found = onPath(name) ?? (executable(`/usr/bin/${name}`) ? `/usr/bin/${name}` : undefined);
    if (found) return found;
  }
  return undefined;
}

const say = (line) => process.stderr.write(`[pinfi] ${line}\n`);

function apt(args) {
  say(`apt-get ${args.join(' ')}`);
  // apt's progress goes to stderr, so this script's stdout stays the path alone.
  const r = spawnSync('apt-get', args, { stdio: ['ignore', process.stderr, process.stderr], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error) throw new Error(`apt-get ${args[0]} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

/** apt knows a chromium package to install (its package lists are present and name one). */
function aptHasCandidate() {
  try {
    const out = execFileSync('apt-cache', ['policy', 'chromium'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /Candidate:\s*(\S+)/.exec(out);
    return m !== null && m[1] !== '(none)';
  } catch {
    return false;
  }
}

export function ensureChromium() {
  const found = find();
  if (found) return found;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !onPath('apt-get')) {
    throw new Error(
      'no Chromium found for the browser test (looked for ' + NAMES.join(', ') + ' on PATH). ' +
        "Install Debian's package (sudo apt-get install --no-install-recommends chromium), " +
        'or set PINFI_CHROMIUM to a Chromium or Chrome binary.',
    );
  }
  say('Chromium is missing: installing Debian\'s chromium package (a few minutes the first time)…');
  if (!aptHasCandidate()) apt(['update']);
  apt(['install', '-y', '--no-install-recommends', 'chromium']);
  const installed = find();
  if (!installed) throw new Error('apt-get installed chromium, but no chromium binary is on PATH or in /usr/bin');
  say(`Chromium installed: ${installed}`);
  return installed;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${ensureChromium()}\n`);
  } catch (e) {
    say(e.message);
    process.exit(1);
  }
}
