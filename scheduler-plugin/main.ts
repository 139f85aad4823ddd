// The scheduler plugin's entry point: parse flags, start, stop gracefully on SIGTERM/SIGINT.
//   npx tsx scheduler-plugin/main.ts --kubeconfig kc.yaml --port 8888 --webhook-url https://127.0.0.1:9443
import { createLogger } from '../operator/src/telemetry/logger.js';
import { parsePluginConfig } from './config.js';
import { startSchedulerPlugin } from './plugin.js';

async function main(): Promise<void> {
  const config = parsePluginConfig(process.argv.slice(2), process.env);
  const logger = createLogger({ level: config.logLevel, fields: { app: 'pinfi-scheduler-plugin' } });
  if (!config.webhook) logger.warn('admission webhook disabled (no --webhook-service or --webhook-url): lease pods get no gate, toleration or schedulerName');
  const plugin = await startSchedulerPlugin(config, { logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void plugin.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  if (e.code?.startsWith('commander.')) process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
  process.stderr.write(`pinfi-scheduler-plugin: ${e.message ?? String(err)}\n`);
  process.exit(1);
});
