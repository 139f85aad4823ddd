// Runs before `npm start` and `npm test` (prestart/pretest): installs dependencies with `npm ci`
// when node_modules is missing or older than package-lock.json, so a fresh clone needs nothing
// typed first. Plain JavaScript on purpose: it runs before TypeScript tooling is installed.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const stamp = 'node_modules/.package-lock.json';
const stale = !existsSync(stamp) || !existsSync('node_modules/.bin/node') ||
  statSync('package-lock.json').mtimeMs > statSync(stamp).mtimeMs;
if (stale) {
  console.log('[pinfi] installing dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
