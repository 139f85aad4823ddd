// `npm start`: a local PinFi environment on this machine — a real Kubernetes control plane with
// simulated GPU nodes and an anvil chain — running until Ctrl-C, which tears everything down.
import { Command } from 'commander';
import { join } from 'node:path';
import { openbNodeSet, smallNodeSet, type OpenbModel } from '../test/env/gpu-nodes.js';
import { startEnvironment } from '../test/env/environment.js';
import { repoRoot } from '../test/env/paths.js';

const OPENB_NODES = join(repoRoot, '..', 'shared', 'data', 'alibaba-openb-2023', 'openb_node_list_gpu_node.csv');

const program = new Command('npm start --')
  .description('Run a local PinFi environment: control plane, simulated GPU nodes and an EVM chain, until Ctrl-C.')
  .option('--nodes <set>', 'node set: small (9 GPU nodes) or openb (the Alibaba OpenB node list)', 'small')
  .option('--openb-file <csv>', 'OpenB node list to use with --nodes openb', OPENB_NODES)
  .option('--models <list>', 'with --nodes openb: only these models, comma-separated (e.g. G2,T4,V100M32)')
  .option('--name <name>', 'cluster name', 'pinfi-local')
  .option('--anvil-port <port>', 'anvil JSON-RPC port (default: a free port)', (v) => Number(v))
  .addHelpText('after', '\nExamples:\n  npm start\n  npm start -- --nodes openb --models G2,T4\n');

async function main(): Promise<void> {
  program.parse(process.argv);
  const o = program.opts<{ nodes: string; openbFile: string; models?: string; name: string; anvilPort?: number }>();
  if (o.nodes !== 'small' && o.nodes !== 'openb') throw new Error(`--nodes must be small or openb, not ${o.nodes}`);
  const nodes =
    o.nodes === 'small'
      ? smallNodeSet()
      : openbNodeSet(o.openbFile, o.models ? { models: o.models.split(',') as OpenbModel[] } : {});
  const env = await startEnvironment({ name: o.name, nodes, ...(o.anvilPort !== undefined ? { anvilPort: o.anvilPort } : {}) });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[pinfi] ${signal}: stopping the control plane and anvil…`);
    await env.stop();
    console.log('[pinfi] stopped; no processes left behind.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  console.log(`
PinFi local environment is up.
  kubectl:   export KUBECONFIG=${env.cluster.kubeconfig}
             kubectl get nodes -L nvidia.com/gpu.product,nvidia.com/gpu.count
             (a kubectl built with the control plane: ${env.cluster.binaries.kubectl})
  chain:     ${env.anvil.rpcUrl} (anvil, chain id ${env.anvil.chainId})
  logs:      ${env.cluster.logsDir}
Press Ctrl-C to stop.`);
}

main().catch((e: unknown) => {
  console.error(`[pinfi] ${(e as Error).message}`);
  process.exit(1);
});
