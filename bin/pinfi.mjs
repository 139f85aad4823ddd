#!/usr/bin/env node
// `pinfi` (npx pinfi …): the PinFi command-line interface.
import { fileURLToPath } from 'node:url';
import { run } from './run.mjs';

await run('pinfi', fileURLToPath(import.meta.url));
