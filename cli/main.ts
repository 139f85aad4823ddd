// `pinfi` / `kubectl pinfi`: the command-line interface to a PinFi market. This file only wires:
// it builds the commander program from the commands in commands/, gives them the process's
// output, clock and environment (read once, here), and turns errors into messages.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { approveCommand } from './commands/approve.js';
import { deployEscrowCommand } from './commands/deploy-escrow.js';
import { joinCommand } from './commands/join.js';
import { leaseCommand } from './commands/lease.js';
import { leasesCommand } from './commands/leases.js';
import { poolsCommand } from './commands/pools.js';
import { quoteCommand } from './commands/quote.js';
import { signCommand } from './commands/sign.js';
import { mountSimulate, simulatePlaceholder } from './commands/simulate.js';
import { withdrawCommand } from './commands/withdraw.js';
import { describeError } from './errors.js';
import { readEnv, type Io } from './io.js';

function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'pinfi' && pkg.version) return pkg.version;
    } catch {
      /* try the next */
    }
  }
  return 'unknown';
}

export function buildProgram(io: Io, name = 'pinfi', simulate?: Command): Command {
  const program = new Command(name)
    .description('Buy and sell GPU time on a PinFi market: pools, quotes, leases, payment authorisations, provider nodes.')
    .version(version(), '--version', 'print the version')
    .addHelpText('after', `
Every command that reads the cluster takes --kubeconfig, --context and -n/--namespace like kubectl,
and -o table|wide|json|yaml. Chain commands read --rpc-url / $PINFI_RPC_URL and --escrow /
$PINFI_ESCROW_ADDRESS. Amounts are token base units (as in the CRDs), or whole tokens with the
symbol: 2500000 or 2.5tUSD.

Examples:
  ${name} pools
  ${name} quote --pool a100 --gpus 4 --hours 6
  ${name} lease train --pool a100 --gpus 4 --hours 6 --payer 0xYourAddress --dry-run
  ${name} lease train --pool a100 --gpus 4 --hours 6 --payer 0xYourAddress
  ${name} approve --amount 500tUSD --key-file payer.key
  ${name} sign --lease train --key-file payer.key
  ${name} leases
  ${name} join gpu-node-7 --pool a100 --payout-address 0xProviderAddress
  ${name} withdraw --key-file provider.key

'${name} <command> --help' shows each command's flags and examples.
`);
  const commands = [
    poolsCommand(io),
    quoteCommand(io),
    leaseCommand(io),
    leasesCommand(io),
    signCommand(io),
    approveCommand(io),
    joinCommand(io),
    withdrawCommand(io),
    deployEscrowCommand(io),
    simulate ?? simulatePlaceholder(io),
  ];
  for (const c of commands) program.addCommand(c);
  const quiet = (c: Command): void => {
    c.configureOutput({ writeOut: io.out, writeErr: io.err });
    c.exitOverride();
    c.showSuggestionAfterError(true);
    c.commands.forEach(quiet);
  };
  quiet(program);
  return program;
}

/** Runs the CLI with `argv` (the arguments after the program name); resolves with the exit code. */
export async function main(argv: readonly string[], opts: { name?: string; io?: Io } = {}): Promise<number> {
  const io = opts.io ?? processIo();
  try {
    const simulate = argv[0] === 'simulate' ? await mountSimulate(io) : undefined;
    await buildProgram(io, opts.name, simulate).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed its own message (usage errors) or the help / version.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : err.exitCode || 2;
    }
    const d = describeError(err);
    io.err(`error: ${d.message}\n`);
    if (d.hint) io.err(`hint: ${d.hint}\n`);
    return d.exitCode;
  }
}

/** The real process: stdout/stderr, the wall clock, the environment, a no-echo terminal prompt. */
export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    now: () => Date.now(),
    env: readEnv(process.env),
    promptSecret: process.stdin.isTTY ? promptSecret : undefined,
  };
}

function promptSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

// `npx tsx cli/main.ts …` runs it directly; bin/pinfi.mjs imports it and calls main().
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main(process.argv.slice(2)));
}
