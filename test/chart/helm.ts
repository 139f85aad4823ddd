// Running the real helm (v3.22.0, built by test/env/binaries.ts) against the chart in
// charts/pinfi: `helm template` for the template tests, install/upgrade/uninstall for the
// integration test. Values go in as a JSON file (-f), exactly as an admin's values file would.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries, VERSIONS } from '../env/binaries.js';
import { repoRoot } from '../env/paths.js';

export const CHART_DIR = join(repoRoot, 'charts', 'pinfi');
export const KUBE_VERSION = VERSIONS.kubernetes;

/** A Kubernetes object as rendered; fields beyond these are read through casts in the tests. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

export type HelmResult = { code: number; stdout: string; stderr: string };

let binary: Promise<string> | undefined;

/** The helm binary: PINFI_HELM in integration tests, otherwise the cached build. */
export function helmBinary(): Promise<string> {
  binary ??= process.env.PINFI_HELM ? Promise.resolve(process.env.PINFI_HELM) : ensureBinaries(() => {}).then((b) => b.helm);
  return binary;
}

/**
 * Helm notes on stderr that the chart's files/crds is a symbolic link (to the repository's
 * crds/, the single source of the CRDs); that is expected and left out of error messages.
 */
export const cleanStderr = (s: string): string =>
  s
    .split('\n')
    .filter((l) => !/found symbolic link in path/.test(l))
    .join('\n')
    .trim();

export async function runHelm(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<HelmResult> {
  const helm = await helmBinary();
  return new Promise((resolve) => {
    execFile(
      helm,
      [...args],
      { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr: cleanStderr(stderr) });
      },
    );
  });
}

/** Runs `fn` with a values file holding `values`. */
export async function withValuesFile<T>(values: unknown, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'pinfi-values-'));
  const file = join(dir, 'values.json');
  writeFileSync(file, JSON.stringify(values));
  try {
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type TemplateOptions = { release?: string; namespace?: string; args?: readonly string[] };

/** `helm template` with these values; resolves with the result whatever the exit code. */
export function templateRaw(values: unknown, opts: TemplateOptions = {}): Promise<HelmResult> {
  return withValuesFile(values, (file) =>
    runHelm([
      'template',
      opts.release ?? 'pinfi',
      CHART_DIR,
      '--namespace',
      opts.namespace ?? 'pinfi-system',
      '--kube-version',
      KUBE_VERSION,
      '-f',
      file,
      ...(opts.args ?? []),
    ]),
  );
}

/** Parses as YAML 1.1, like the Kubernetes API machinery (0440 is octal, yes/no are booleans). */
export function parseObjects(manifest: string): K8sObject[] {
  return parseAllDocuments(manifest, { version: '1.1' })
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** The objects `helm template` renders with these values; throws with helm's message if it fails. */
export async function render(values: unknown = {}, opts: TemplateOptions = {}): Promise<K8sObject[]> {
  const r = await templateRaw(values, opts);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseObjects(r.stdout);
}

/** The message helm refuses these values with; throws if it renders them. */
export async function refusal(values: unknown, opts: TemplateOptions = {}): Promise<string> {
  const r = await templateRaw(values, opts);
  if (r.code === 0) throw new Error(`helm template accepted ${JSON.stringify(values)}`);
  return r.stderr;
}

export function find(objs: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

export const kinds = (objs: readonly K8sObject[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();

// ---- typed views of what the tests read ---------------------------------------------------------

export type PolicyRule = { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[]; nonResourceURLs?: string[] };
export type Container = {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
};
export type PodSpec = {
  serviceAccountName: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number }; configMap?: { name: string }; emptyDir?: unknown }[];
};
export type Deployment = K8sObject & {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
};

export const rulesOf = (o: K8sObject): PolicyRule[] => (o as { rules?: PolicyRule[] }).rules ?? [];
export const podSpec = (d: K8sObject): PodSpec => (d as Deployment).spec.template.spec;
export const container = (d: K8sObject): Container => {
  const c = podSpec(d).containers[0];
  if (!c) throw new Error(`${d.metadata.name} has no container`);
  return c;
};
