// The scheduler plugin's configuration: flags parsed once at start-up into a typed, frozen object.
import { Command, InvalidArgumentError } from 'commander';
import type { LogLevel } from '../operator/src/telemetry/logger.js';
import { wholeNumber } from '../operator/src/flags.js';
import { DEFAULT_MAX_BODY_BYTES } from './extender-server.js';
import type { CertificateSource, WebhookEndpoint } from './webhook-config.js';

export type WebhookConfig = Readonly<{
  host: string;
  port: number;
  /** How the API server reaches the webhook. */
  endpoint: WebhookEndpoint;
  certificate: CertificateSource;
  /** Extra DNS names and IPs for a generated certificate (besides the Service's or the URL's host). */
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** Create/update the MutatingWebhookConfiguration (with caBundle) at start-up. */
  manageConfiguration: boolean;
  configurationName: string;
}>;

export type PluginConfig = Readonly<{
  kubeconfig: string | undefined;
  context: string | undefined;
  host: string;
  port: number;
  maxBodyBytes: number;
  /** How long a placement (a lease pod sent to a node, not yet seen bound) counts. */
  placementTtlMs: number;
  webhook: WebhookConfig | undefined;
  logLevel: LogLevel;
}>;

const int = wholeNumber;

function nsName(v: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(v);
  if (!m?.[1] || !m[3]) throw new InvalidArgumentError('must be namespace/name');
  return { namespace: m[1], name: m[3] };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function pluginCommand(): Command {
  return new Command('pinfi-scheduler-plugin')
    .description('PinFi scheduler extender (kube-scheduler filter for lease pods) and the admission webhook for lease pods.')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster service account, or $KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context')
    .option('--host <host>', 'address of the extender (POST /filter, /prioritize) and /healthz, /readyz, /metrics', '0.0.0.0')
    .option('--port <port>', 'extender port', int(0, 65535), 8888)
    .option('--max-body-bytes <n>', 'largest extender request body', int(1024, 256 * 1024 * 1024), DEFAULT_MAX_BODY_BYTES)
    .option('--placement-ttl <seconds>', 'how long a lease pod sent to a node counts there before its binding is seen', int(1, 3600), 120)
    .option('--webhook-port <port>', 'HTTPS port of the admission webhook; it runs when --webhook-service or --webhook-url is given (0 disables it)', int(0, 65535), 9443)
    .option('--webhook-host <host>', 'address of the admission webhook', '0.0.0.0')
    .option('--webhook-service <namespace/name>', 'the Service the API server reaches the webhook through (in-cluster)', nsName)
    .option('--webhook-service-port <port>', 'port of that Service', int(1, 65535), 443)
    .option('--webhook-url <url>', 'URL the API server reaches the webhook at (out-of-cluster), e.g. https://127.0.0.1:9443')
    .option('--webhook-configuration <name>', 'name of the MutatingWebhookConfiguration', 'pinfi-lease-pods')
    .option('--no-manage-webhook-configuration', 'do not create/update the MutatingWebhookConfiguration (someone else injects caBundle)')
    .option('--cert-secret <namespace/name>', 'keep the generated serving certificate in this Secret (shared by replicas)', nsName)
    .option('--tls-cert-file <file>', 'serving certificate (PEM) instead of a generated one')
    .option('--tls-key-file <file>', 'its private key (PEM)')
    .option('--tls-ca-file <file>', 'the CA that signed it (caBundle)')
    .option('--webhook-dns-name <name>', 'extra DNS name for the generated certificate (repeatable)', collect, [])
    .option('--webhook-ip <ip>', 'extra IP address for the generated certificate (repeatable)', collect, [])
    .option('--log-level <level>', 'debug, info, warn or error', 'info');
}

export function parsePluginConfig(argv: readonly string[], env: NodeJS.ProcessEnv): PluginConfig {
  const cmd = pluginCommand().exitOverride();
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<{
    kubeconfig?: string;
    context?: string;
    host: string;
    port: number;
    maxBodyBytes: number;
    placementTtl: number;
    webhookPort: number;
    webhookHost: string;
    webhookService?: { namespace: string; name: string };
    webhookServicePort: number;
    webhookUrl?: string;
    webhookConfiguration: string;
    manageWebhookConfiguration: boolean;
    certSecret?: { namespace: string; name: string };
    tlsCertFile?: string;
    tlsKeyFile?: string;
    tlsCaFile?: string;
    webhookDnsName: string[];
    webhookIp: string[];
    logLevel: string;
  }>();
  if (!['debug', 'info', 'warn', 'error'].includes(o.logLevel)) throw new Error('--log-level must be debug, info, warn or error');

  let webhook: WebhookConfig | undefined;
  if (o.webhookUrl && o.webhookService) throw new Error('give one of --webhook-service (in-cluster) or --webhook-url (out-of-cluster), not both');
  // The webhook runs when the API server can be told where it is, and its port is not 0.
  if (o.webhookPort > 0 && (o.webhookUrl || o.webhookService)) {
    const files = [o.tlsCertFile, o.tlsKeyFile, o.tlsCaFile];
    if (files.some(Boolean) && !files.every(Boolean)) throw new Error('--tls-cert-file, --tls-key-file and --tls-ca-file go together');
    const dnsNames = [...o.webhookDnsName];
    const ipAddresses = [...o.webhookIp];
    let endpoint: WebhookEndpoint;
    if (o.webhookUrl) {
      let url: URL;
      try {
        url = new URL(o.webhookUrl);
      } catch {
        throw new Error(`--webhook-url ${o.webhookUrl} is not a URL`);
      }
      if (url.protocol !== 'https:') throw new Error('--webhook-url must be https (the API server only calls webhooks over TLS)');
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (/^[0-9.]+$/.test(host) || host.includes(':')) ipAddresses.push(host);
      else dnsNames.push(host);
      endpoint = { url: o.webhookUrl };
    } else {
      const s = o.webhookService as { namespace: string; name: string };
      dnsNames.push(s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`);
      endpoint = { service: { ...s, port: o.webhookServicePort } };
    }
    const certificate: CertificateSource = o.tlsCertFile
      ? { files: { cert: o.tlsCertFile, key: o.tlsKeyFile as string, ca: o.tlsCaFile as string } }
      : o.certSecret
        ? { secret: o.certSecret }
        : { ephemeral: true };
    webhook = Object.freeze({
      host: o.webhookHost,
      port: o.webhookPort,
      endpoint,
      certificate,
      dnsNames: [...new Set(dnsNames)],
      ipAddresses: [...new Set(ipAddresses)],
      manageConfiguration: o.manageWebhookConfiguration,
      configurationName: o.webhookConfiguration,
    });
  }
  return Object.freeze({
    kubeconfig: o.kubeconfig ?? (env.KUBERNETES_SERVICE_HOST ? undefined : env.KUBECONFIG),
    context: o.context,
    host: o.host,
    port: o.port,
    maxBodyBytes: o.maxBodyBytes,
    placementTtlMs: o.placementTtl * 1000,
    webhook,
    logLevel: o.logLevel as LogLevel,
  });
}

/**
 * The configuration for a plugin next to a local control plane (the tests, `npm start`): the
 * extender and the webhook on 127.0.0.1, the API server calling the webhook by URL with an
 * ephemeral certificate the plugin makes, and the MutatingWebhookConfiguration written by it
 * (in a cluster the chart ships both).
 */
export function localPluginConfig(o: { kubeconfig?: string; port: number; webhookPort: number; logLevel?: LogLevel }): PluginConfig {
  return Object.freeze({
    kubeconfig: o.kubeconfig,
    context: undefined,
    host: '127.0.0.1',
    port: o.port,
    maxBodyBytes: 8 * 1024 * 1024,
    placementTtlMs: 120_000,
    logLevel: o.logLevel ?? 'info',
    webhook: Object.freeze({
      host: '127.0.0.1',
      port: o.webhookPort,
      endpoint: { url: `https://127.0.0.1:${o.webhookPort}` },
      certificate: { ephemeral: true as const },
      dnsNames: [],
      ipAddresses: ['127.0.0.1'],
      manageConfiguration: true,
      configurationName: 'pinfi-lease-pods',
    }),
  });
}
