// Jest global setup for the integration project: one environment (control plane with the small
// GPU node set and the CRDs, plus anvil) for the whole run. Jest loads global setup natively,
// without its TypeScript transform for imported files, so this file registers tsx's loader and
// imports the TypeScript environment module. Tests find the environment through variables:
//   PINFI_KUBECONFIG  kubeconfig file      PINFI_RPC_URL  anvil's JSON-RPC URL
//   PINFI_KUBECTL     kubectl binary       PINFI_HELM     helm binary
import { register } from 'tsx/esm/api';

export default async function globalSetup() {
  register();
  const { smallNodeSet } = await import('./gpu-nodes.ts');
  const { startEnvironment } = await import('./environment.ts');
  const { reapOrphanClusters } = await import('./cluster.ts');
  // One cluster per test run, named by this process, so runs side by side never share one.
  await reapOrphanClusters('pinfi-test');
  const env = await startEnvironment({ name: `pinfi-test-${process.pid}`, nodes: smallNodeSet(), log: (l) => process.stderr.write(`${l}\n`) });
  globalThis.__PINFI_ENV__ = env;
  process.env.PINFI_KUBECONFIG = env.cluster.kubeconfig;
  process.env.PINFI_RPC_URL = env.anvil.rpcUrl;
  process.env.PINFI_KUBECTL = env.cluster.binaries.kubectl;
  process.env.PINFI_HELM = env.cluster.binaries.helm;
}
