// The scheduler extension as the Helm chart runs it, on this machine: the scheduler plugin (the
// extender kube-scheduler calls for GPU pods, and the admission webhook that gives lease pods
// schedulerName `pinfi`, the lease gate and the pool toleration) in this process, and a second
// kube-scheduler with only the `pinfi` profile calling the extender. Its configuration comes
// from the generator the chart's ConfigMap is checked against (pinfiSchedulerConfiguration with
// `standalone`); one replica here, so no leader election.
import { get as httpsGet } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Logger } from '../operator/src/telemetry/logger.js';
import { localPluginConfig } from '../scheduler-plugin/config.js';
import { startSchedulerPlugin, type SchedulerPluginHandle } from '../scheduler-plugin/plugin.js';
import { pinfiSchedulerConfiguration } from '../scheduler-plugin/scheduler-config.js';
import type { Cluster } from '../test/env/cluster.js';
import { freePort } from '../test/env/ports.js';
import { startProcess, waitReady, type Managed } from '../test/env/process.js';

export type LocalScheduling = {
  readonly plugin: SchedulerPluginHandle;
  readonly scheduler: Managed;
  stop(): Promise<void>;
};

export type LocalSchedulingOptions = {
  cluster: Cluster;
  /** Folder of the kube-scheduler's configuration and log. */
  logDir: string;
  logger: Logger;
  log: (line: string) => void;
};

/** GET over HTTPS without verifying the self-signed serving certificate kube-scheduler made itself. */
function httpsOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(url, { rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export async function startLocalScheduling(opts: LocalSchedulingOptions): Promise<LocalScheduling> {
  const { cluster, log } = opts;
  const [extenderPort, webhookPort, schedulerPort] = [await freePort(), await freePort(), await freePort()];
  log('[pinfi] starting the scheduler extender and the admission webhook for lease pods…');
  // Out-of-cluster, so the API server calls the webhook by URL (the chart ships a Service instead).
  const config = localPluginConfig({ kubeconfig: cluster.kubeconfig, port: extenderPort, webhookPort });
  const plugin = await startSchedulerPlugin(config, { logger: opts.logger, connection: cluster.connection() });
  let scheduler: Managed | undefined;
  try {
    await plugin.waitForSync();
    const doc = pinfiSchedulerConfiguration({ urlPrefix: plugin.extenderUrl, standalone: { namespace: 'pinfi-system' }, leaderElect: false });
    doc.clientConnection = { ...(doc.clientConnection as object), kubeconfig: cluster.kubeconfig };
    mkdirSync(opts.logDir, { recursive: true });
    const file = join(opts.logDir, `pinfi-scheduler-${cluster.name}.yaml`);
    writeFileSync(file, stringify(doc));
    log('[pinfi] starting the second kube-scheduler (profile pinfi, with the extender)…');
    scheduler = startProcess({
      name: 'pinfi-scheduler',
      command: cluster.binaries.kubeScheduler,
      args: [
        '--config', file,
        '--bind-address', '127.0.0.1',
        '--secure-port', String(schedulerPort),
        // Delegated authentication and authorisation for its /readyz, through the same kubeconfig.
        '--authentication-kubeconfig', cluster.kubeconfig,
        '--authorization-kubeconfig', cluster.kubeconfig,
      ],
      logFile: join(opts.logDir, `pinfi-scheduler-${cluster.name}.log`),
    });
    await waitReady(scheduler, '/readyz', () => httpsOk(`https://127.0.0.1:${schedulerPort}/readyz`), 60_000, 200);
    log(`[pinfi] scheduler extension running: extender ${plugin.extenderUrl}, webhook https://127.0.0.1:${webhookPort}, kube-scheduler "pinfi" (log ${scheduler.logFile})`);
  } catch (e) {
    await scheduler?.stop();
    await plugin.stop();
    throw e;
  }
  const running = scheduler;
  return {
    plugin,
    scheduler: running,
    async stop() {
      await running.stop();
      await plugin.stop();
    },
  };
}
