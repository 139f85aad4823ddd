// The cluster, found the way kubectl finds it: --kubeconfig, else the files in $KUBECONFIG
// (merged, the first file wins), else ~/.kube/config; --context, else the current context; the
// namespace from -n, else the context's namespace, else "default". API errors become CliErrors
// that say what to do.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { fromKubeConfig } from '../operator/src/kube/client-node-connection.js';
import { RestClient, PatchStrategy, type QueryParams } from '../operator/src/kube/rest.js';
import { resourcePath, type KubeList, type KubeObject, type ResourceType } from '../operator/src/kube/resources.js';
import { apiStatus, CliError, systemCode } from './errors.js';
import type { CliEnv } from './io.js';

export type KubeFlags = { kubeconfig?: string; context?: string; namespace?: string };

export type KubeTarget = { readonly files: readonly string[]; readonly context: string | undefined; readonly namespace: string };

/** Which kubeconfig files to read (pure; `exists` is passed in for tests). */
export function kubeconfigFiles(flags: KubeFlags, env: Pick<CliEnv, 'kubeconfigs' | 'home'>, exists: (f: string) => boolean): string[] {
  if (flags.kubeconfig) return [flags.kubeconfig];
  if (env.kubeconfigs.length > 0) return env.kubeconfigs.filter(exists);
  const home = env.home ? join(env.home, '.kube', 'config') : undefined;
  return home && exists(home) ? [home] : [];
}

/** Loads the files like kubectl: the first file's current-context wins, and so does its entry when names repeat. */
export function loadKubeconfig(files: readonly string[], context: string | undefined): KubeConfig {
  if (files.length === 0) {
    throw new CliError('no kubeconfig found', 'pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config (kubectl config view shows what kubectl uses)');
  }
  const kc = new KubeConfig();
  files.forEach((file, i) => {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new CliError(`cannot read kubeconfig ${file}: ${(err as Error).message}`, 'check the file (kubectl config view --kubeconfig FILE)');
    }
    if (i === 0) {
      kc.loadFromOptions({ clusters: one.clusters, users: one.users, contexts: one.contexts, currentContext: one.currentContext });
      return;
    }
    const has = <T extends { name: string }>(list: readonly T[], x: T) => list.some((y) => y.name === x.name);
    for (const c of one.clusters) if (!has(kc.clusters, c)) kc.addCluster(c);
    for (const u of one.users) if (!has(kc.users, u)) kc.addUser(u);
    for (const c of one.contexts) if (!has(kc.contexts, c)) kc.addContext(c);
    if (!kc.currentContext && one.currentContext) kc.setCurrentContext(one.currentContext);
  });
  if (context) {
    if (!kc.getContextObject(context)) {
      throw new CliError(`context "${context}" is not in ${files.join(', ')}`, `known contexts: ${kc.contexts.map((c) => c.name).join(', ') || 'none'}`);
    }
    kc.setCurrentContext(context);
  }
  if (!kc.currentContext || !kc.getCurrentCluster()?.server) {
    throw new CliError(`kubeconfig ${files.join(', ')} has no current context with a cluster`, 'pass --context NAME (kubectl config get-contexts lists them)');
  }
  return kc;
}

/** -n, else the context's namespace, else "default". */
export function resolveNamespace(kc: KubeConfig, flag: string | undefined): string {
  return flag || kc.getContextObject(kc.currentContext)?.namespace || 'default';
}

export type ListOptions = { namespace?: string; labelSelector?: string; fieldSelector?: string };

/** The cluster as one user sees it through one context. */
export class Kube {
  readonly rest: RestClient;
  readonly server: string;
  readonly context: string;

  constructor(
    readonly kubeConfig: KubeConfig,
    /** The namespace commands use unless told otherwise. */
    readonly namespace: string,
    timeoutMs = 30_000,
  ) {
    this.rest = new RestClient(fromKubeConfig(kubeConfig), { timeoutMs });
    this.server = kubeConfig.getCurrentCluster()?.server ?? '';
    this.context = kubeConfig.currentContext;
  }

  static connect(flags: KubeFlags, env: CliEnv): Kube {
    const kc = loadKubeconfig(kubeconfigFiles(flags, env, existsSync), flags.context);
    return new Kube(kc, resolveNamespace(kc, flags.namespace));
  }

  /** One object, or undefined when it does not exist. */
  async get<T extends KubeObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    const ns = rt.namespaced ? (namespace ?? this.namespace) : undefined;
    try {
      return await this.rest.get<T>(resourcePath(rt, { namespace: ns, name }));
    } catch (err) {
      const s = apiStatus(err);
      if (s?.code === 404 && s.details?.name !== undefined) return undefined;
      throw this.explain(err, `get ${rt.kind} ${name}`, rt);
    }
  }

  /** One object that must exist; `hint` says how to find the right name. */
  async need<T extends KubeObject>(rt: ResourceType, name: string, hint: string, namespace?: string): Promise<T> {
    const obj = await this.get<T>(rt, name, namespace);
    if (obj) return obj;
    const where = rt.namespaced ? ` in namespace ${namespace ?? this.namespace}` : '';
    throw new CliError(`${rt.kind} "${name}" not found${where}`, hint);
  }

  async list<T extends KubeObject>(rt: ResourceType, opts: ListOptions = {}): Promise<T[]> {
    const query: QueryParams = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    try {
      return (await this.rest.get<KubeList<T>>(resourcePath(rt, { namespace: rt.namespaced ? opts.namespace : undefined }), query)).items ?? [];
    } catch (err) {
      throw this.explain(err, `list ${rt.plural}`, rt);
    }
  }

  async create<T extends KubeObject>(rt: ResourceType, obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const ns = rt.namespaced ? (obj.metadata?.namespace ?? this.namespace) : undefined;
    try {
      return await this.rest.request<T>({ method: 'POST', path: resourcePath(rt, { namespace: ns }), body: obj, query: opts.dryRun ? { dryRun: 'All' } : {} });
    } catch (err) {
      throw this.explain(err, `create ${rt.kind} ${obj.metadata?.name ?? ''}`, rt);
    }
  }

  async replace<T extends KubeObject>(rt: ResourceType, obj: T): Promise<T> {
    const ns = rt.namespaced ? (obj.metadata?.namespace ?? this.namespace) : undefined;
    try {
      return await this.rest.request<T>({ method: 'PUT', path: resourcePath(rt, { namespace: ns, name: obj.metadata?.name ?? '' }), body: obj });
    } catch (err) {
      throw this.explain(err, `replace ${rt.kind} ${obj.metadata?.name ?? ''}`, rt);
    }
  }

  /** A JSON merge patch (with metadata.resourceVersion in it, a guarded one: 409 if the object changed). */
  async mergePatch<T extends KubeObject>(rt: ResourceType, name: string, patch: unknown, namespace?: string): Promise<T> {
    const ns = rt.namespaced ? (namespace ?? this.namespace) : undefined;
    try {
      return await this.rest.patch<T>(resourcePath(rt, { namespace: ns, name }), patch, PatchStrategy.MergePatch);
    } catch (err) {
      throw this.explain(err, `patch ${rt.kind} ${name}`, rt);
    }
  }

  /** An API or transport error as a CliError that says what to do. */
  explain(err: unknown, what: string, rt?: ResourceType): CliError {
    if (err instanceof CliError) return err;
    const s = apiStatus(err);
    const where = `the API server at ${this.server} (context ${this.context})`;
    if (!s) {
      const code = systemCode(err);
      return new CliError(
        `${what}: cannot reach ${where}${code ? ` (${code})` : ''}`,
        'is the cluster running? Check the context (kubectl config current-context) or pass --context / --kubeconfig',
      );
    }
    const msg = s.message ?? s.reason ?? 'no details';
    switch (s.code) {
      case 401:
        return new CliError(`${what}: ${where} rejected the credentials (401 Unauthorized)`, 'refresh your credentials for this context (kubectl config view --minify), or pick another with --context');
      case 403:
        return new CliError(`${what}: forbidden: ${msg}`, 'ask your cluster admin for the RBAC permission, or use a context that has it (kubectl auth can-i --list)');
      case 404:
        if (rt?.group === 'pinfi.io') {
          return new CliError(`${what}: this cluster has no ${rt.plural}.pinfi.io API`, 'install PinFi first (helm install pinfi charts/pinfi, or kubectl apply -f crds/)');
        }
        return new CliError(`${what}: not found: ${msg}`);
      case 409:
        return new CliError(`${what}: ${msg}`, s.reason === 'AlreadyExists' ? 'pick another name, or delete the existing one first' : 'it changed meanwhile; run the command again');
      case 422:
        return new CliError(`${what}: the API server refused it: ${msg}`, 'fix the values named above and run the command again');
      default:
        return new CliError(`${what}: the API server answered ${s.code}${s.reason ? ` ${s.reason}` : ''}: ${msg}`, s.code >= 500 ? 'the API server has a problem; try again in a moment' : undefined);
    }
  }
}
