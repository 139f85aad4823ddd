// `pinfi simulate`: the market simulator's own command (simulator/cli.ts), mounted here. It is
// loaded only when `simulate` is run, so the other commands start without it; until then a
// placeholder lists it in the help. Whatever shape the simulator exports (a Command, a function
// returning one, or a default export), it is adapted here and only here.
import { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';

const DESCRIPTION = 'Run the market simulator: replay a GPU trace against the AMM and other pricing policies';

function isCommand(x: unknown): x is Command {
  return x instanceof Command || (!!x && typeof x === 'object' && typeof (x as Command).parseAsync === 'function' && typeof (x as Command).name === 'function');
}

/** The simulator's command from its module's exports, or undefined. */
export function findCommand(mod: Record<string, unknown>): Command | undefined {
  const values = [mod.default, mod.simulateCommand, mod.command, mod.program, ...Object.values(mod)];
  const direct = values.find(isCommand);
  if (direct) return direct;
  // A factory: only functions whose name says they build a command (never call a `main`).
  for (const [name, v] of Object.entries(mod)) {
    if (typeof v === 'function' && /command|program|cli/i.test(name) && v.length === 0) {
      const made: unknown = (v as () => unknown)();
      if (isCommand(made)) return made;
    }
  }
  return undefined;
}

/** Loads simulator/cli.ts and returns its command named `simulate`. */
export async function mountSimulate(io: Io): Promise<Command> {
  // A computed specifier: the simulator is optional at type-check time and in builds without it.
  const specifier = ['..', '..', 'simulator', 'cli.js'].join('/');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('simulator');
    if (!missing) throw err;
    return simulatePlaceholder(io);
  }
  const cmd = findCommand(mod);
  if (!cmd) throw new CliError('simulator/cli.ts exports no commander Command', 'export one (or a function named like simulateCommand returning one)');
  return cmd.name('simulate');
}

/** Listed in the help; run, it says the simulator is not part of this build. */
export function simulatePlaceholder(_io: Io): Command {
  return new Command('simulate')
    .description(DESCRIPTION)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', '\nSee docs/simulation.md. Run kubectl pinfi simulate --help for its flags.\n')
    .action(() => {
      throw new CliError('the simulator is not part of this build (simulator/cli.ts is missing)', 'run it from a checkout of the PinFi repository that has simulator/cli.ts');
    });
}
