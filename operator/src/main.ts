// The operator's entry point: parse the configuration, start, stop gracefully on SIGTERM/SIGINT.
import { parseConfig } from './config.js';
import { startOperator } from './operator.js';
import { createLogger } from './telemetry/logger.js';

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2), process.env);
  const logger = createLogger({ level: config.logLevel, fields: { app: 'pinfi-operator' } });
  const op = await startOperator(config, { logger, env: process.env });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    void op.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  if (e.code?.startsWith('commander.')) process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
  process.stderr.write(`pinfi-operator: ${e.message ?? String(err)}\n`);
  process.exit(1);
});
