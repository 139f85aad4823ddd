// Where the environment keeps things: the binary cache (outside the repository, shared between
// clones, keyed by version) and the per-run state (kubeconfigs, logs, kwok work dirs).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export const cacheDir = process.env.PINFI_CACHE_DIR ?? join(homedir(), '.cache', 'pinfi');

/** Per-run state lives in the repository's ignored .pinfi/ folder unless PINFI_RUN_DIR says otherwise. */
export const runDir = process.env.PINFI_RUN_DIR ?? join(repoRoot, '.pinfi');
