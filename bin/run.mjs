// Shared by bin/pinfi.mjs and bin/kubectl-pinfi.mjs: runs the CLI under a Node.js new enough for
// @kubernetes/client-node (>= 22.19; the project's own Node 24 from node_modules when the one on
// PATH is older), from cli/main.ts through tsx in a checkout (a dist/ left by `npm run build` or
// a benchmark would otherwise run stale code), else from the compiled dist/cli/main.js.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function oldNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major < 22 || (major === 22 && minor < 19);
}

export async function run(programName, entry) {
  if (oldNode()) {
    const bundled = join(root, 'node_modules', 'node', 'bin', 'node');
    if (!existsSync(bundled)) {
      process.stderr.write(`error: PinFi needs Node.js >= 22.19 (this is ${process.version})\nhint: install a newer Node.js, or run npm install in ${root}\n`);
      process.exit(1);
    }
    const r = spawnSync(bundled, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const dist = join(root, 'dist', 'cli', 'main.js');
  const source = join(root, 'cli', 'main.ts');
  let url;
  if (!existsSync(source) || !existsSync(join(root, 'node_modules', 'tsx'))) {
    url = pathToFileURL(dist).href;
  } else {
    // Start-up time: the big dependencies every command uses are loaded natively first, before
    // tsx's loader hooks exist (each of their hundreds of internal imports would go through them),
    // and source maps stay off (the CLI prints messages, not stack traces). Halves the start-up.
    await Promise.all(['@kubernetes/client-node', 'ethers', 'commander', 'cli-table3', 'yaml'].map((m) => import(m)));
    const { register } = await import('tsx/esm/api');
    register();
    process.setSourceMapsEnabled(false);
    url = pathToFileURL(source).href;
  }
  const { main } = await import(url);
  const code = await main(process.argv.slice(2), { name: programName });
  // Exit now: idle keep-alive connections to the API server or the chain must not hold the process.
  process.exit(code);
}
