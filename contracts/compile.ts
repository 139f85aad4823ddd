// Compiles contracts/src with solc (npm, WebAssembly) and generates the ethers v6 bindings.
//
//   npx tsx contracts/compile.ts          compile if anything changed (a no-op in well under a second otherwise)
//   npx tsx contracts/compile.ts --force  compile regardless of the cache
//
// Outputs (both git-ignored, rebuilt on demand):
//   contracts/artifacts/<Name>.json         { contractName, sourceName, abi, bytecode, deployedBytecode }
//   operator/src/settlement/generated/      TypeChain (ethers-v6 target) typed contracts and factories, with the
//                                           ABI and creation bytecode embedded: nothing hand-written.
//
// The cache key is a hash of every source, the compiler settings, and the versions of solc, OpenZeppelin and
// TypeChain; it is stored in both output folders and compared before anything heavy is loaded.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');
const srcDir = join(here, 'src');
const artifactsDir = join(here, 'artifacts');
const bindingsDir = join(repoRoot, 'operator', 'src', 'settlement', 'generated');
const STAMP = '.stamp';
const require = createRequire(import.meta.url);

/** Library contracts whose bindings the client needs besides ours (any ERC-20 the escrow may use). */
const EXTERNAL_CONTRACTS = {
  '@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol': 'IERC20Metadata',
  '@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol': 'IERC20Permit',
} as const;

// cancun: transient storage (the reentrancy guard) and mcopy; every major EVM chain supports it.
const SETTINGS = {
  evmVersion: 'cancun',
  viaIR: true,
  optimizer: { enabled: true, runs: 10_000 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
} as const;

type SolcOutput = {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string; sourceLocation?: { file: string } }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
};

function solFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? solFiles(join(dir, e.name)) : e.name.endsWith('.sol') ? [join(dir, e.name)] : [],
  );
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

function cacheKey(files: readonly string[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ SETTINGS, EXTERNAL_CONTRACTS, schema: 1 }));
  for (const p of ['solc', '@openzeppelin/contracts', 'typechain', '@typechain/ethers-v6']) h.update(`${p}@${packageVersion(p)}\n`);
  for (const f of [...files].sort()) h.update(`${relative(here, f)}\n`).update(readFileSync(f));
  return h.digest('hex');
}

function upToDate(key: string): boolean {
  return [artifactsDir, bindingsDir].every((d) => existsSync(join(d, STAMP)) && readFileSync(join(d, STAMP), 'utf8') === key);
}

function findImport(path: string): { contents: string } | { error: string } {
  try {
    const file = path.startsWith('@') ? require.resolve(path) : join(srcDir, path);
    return { contents: readFileSync(file, 'utf8') };
  } catch (err) {
    return { error: `cannot resolve import ${path}: ${(err as Error).message}` };
  }
}

async function compile(files: readonly string[]): Promise<SolcOutput> {
  const solc = (await import('solc')).default;
  const sources: Record<string, { content: string }> = {};
  for (const f of files) sources[relative(srcDir, f).split(sep).join('/')] = { content: readFileSync(f, 'utf8') };
  for (const path of Object.keys(EXTERNAL_CONTRACTS)) {
    const found = findImport(path);
    if ('error' in found) throw new Error(found.error);
    sources[path] = { content: found.contents };
  }
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  // Errors anywhere fail the build; warnings fail it only in our sources (OpenZeppelin's own notes, such as the
  // transient-storage advisory of its reentrancy guard, are not ours to fix).
  const problems = (output.errors ?? []).filter(
    (e) => e.severity === 'error' || (e.severity === 'warning' && !e.sourceLocation?.file.startsWith('@')),
  );
  for (const p of problems) console.error(p.formattedMessage);
  if (problems.some((p) => p.severity === 'error')) throw new Error('contracts: solc reported errors (above)');
  if (problems.length > 0) throw new Error('contracts: solc reported warnings (above); the build is kept warning-free');
  return output;
}

function writeArtifacts(output: SolcOutput): string[] {
  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  const wanted = new Set<string>(Object.values(EXTERNAL_CONTRACTS));
  const written: string[] = [];
  for (const [sourceName, contracts] of Object.entries(output.contracts)) {
    const ours = !sourceName.startsWith('@');
    for (const [contractName, c] of Object.entries(contracts)) {
      if (!ours && !wanted.has(contractName)) continue;
      // Errors and ILeaseEscrow hold no functions: their errors, types and events are in LeaseEscrow's ABI.
      if (ours && (sourceName === 'Errors.sol' || sourceName === 'ILeaseEscrow.sol')) continue;
      const file = join(artifactsDir, `${contractName}.json`);
      const artifact = {
        contractName,
        sourceName,
        abi: c.abi,
        bytecode: c.evm.bytecode.object ? `0x${c.evm.bytecode.object}` : '0x',
        deployedBytecode: c.evm.deployedBytecode.object ? `0x${c.evm.deployedBytecode.object}` : '0x',
      };
      writeFileSync(file, `${JSON.stringify(artifact, null, 2)}\n`);
      written.push(file);
    }
  }
  return written;
}

async function generateBindings(files: string[]): Promise<void> {
  const { runTypeChain } = await import('typechain');
  rmSync(bindingsDir, { recursive: true, force: true });
  await runTypeChain({
    cwd: repoRoot,
    filesToProcess: files,
    allFiles: files,
    outDir: bindingsDir,
    target: 'ethers-v6',
    flags: { alwaysGenerateOverloads: false, discriminateTypes: false, node16Modules: true, environment: undefined },
  });
}

export async function buildContracts(opts: { force?: boolean } = {}): Promise<'cached' | 'built'> {
  const files = solFiles(srcDir);
  const key = cacheKey(files);
  if (!opts.force && upToDate(key)) return 'cached';
  const output = await compile(files);
  const artifacts = writeArtifacts(output);
  await generateBindings(artifacts);
  writeFileSync(join(artifactsDir, STAMP), key);
  writeFileSync(join(bindingsDir, STAMP), key);
  return 'built';
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildContracts({ force: process.argv.includes('--force') }).then(
    (result) => console.log(`[pinfi] contracts: ${result === 'cached' ? 'up to date' : 'compiled'} (${Date.now() - started} ms)`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
