// Script entry: `npx tsx simulator/main.ts [flags]` runs `pinfi simulate`. Only wires.
import { simulateCommand } from './cli.js';

simulateCommand.name('simulate').parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
