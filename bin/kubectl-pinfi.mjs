#!/usr/bin/env node
// `kubectl pinfi …`: kubectl runs any executable named kubectl-pinfi on PATH as its `pinfi` plugin.
import { fileURLToPath } from 'node:url';
import { run } from './run.mjs';

await run('kubectl pinfi', fileURLToPath(import.meta.url));
