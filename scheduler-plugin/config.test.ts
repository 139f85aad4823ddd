import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parsePluginConfig } from './config.js';
import { pinfiSchedulerConfiguration } from './scheduler-config.js';

describe('flags', () => {
  test('defaults: extender on 8888, no webhook without an endpoint', () => {
    const c = parsePluginConfig([], {});
    expect(c).toMatchObject({ host: '0.0.0.0', port: 8888, webhook: undefined, placementTtlMs: 120_000 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('in-cluster webhook: Service names in the certificate, Secret-backed', () => {
    const c = parsePluginConfig(['--webhook-service', 'pinfi-system/pinfi-scheduler-plugin', '--cert-secret', 'pinfi-system/pinfi-webhook-tls'], {});
    expect(c.webhook).toMatchObject({
      port: 9443,
      endpoint: { service: { namespace: 'pinfi-system', name: 'pinfi-scheduler-plugin', port: 443 } },
      certificate: { secret: { namespace: 'pinfi-system', name: 'pinfi-webhook-tls' } },
      manageConfiguration: true,
    });
    expect(c.webhook?.dnsNames).toContain('pinfi-scheduler-plugin.pinfi-system.svc');
  });

  test('out-of-cluster webhook: the URL host goes into the certificate', () => {
    const c = parsePluginConfig(['--webhook-url', 'https://127.0.0.1:9443', '--webhook-port', '9443'], {});
    expect(c.webhook?.ipAddresses).toEqual(['127.0.0.1']);
    expect(c.webhook?.certificate).toEqual({ ephemeral: true });
  });

  test.each([
    [['--webhook-url', 'http://127.0.0.1:9443'], /must be https/],
    [['--webhook-url', 'https://a', '--webhook-service', 'a/b'], /not both/],
    [['--webhook-url', 'https://a', '--tls-cert-file', 'x'], /go together/],
    [['--port', '70000'], /from 0 to 65535/],
    [['--webhook-service', 'nope'], /namespace\/name/],
  ])('refuses %j', (argv, message) => {
    expect(() => parsePluginConfig(argv, {})).toThrow(message);
  });
});

test('kube-scheduler-config.yaml is what the generator makes', () => {
  const file = parse(readFileSync(new URL('./kube-scheduler-config.yaml', import.meta.url), 'utf8')) as unknown;
  expect(file).toEqual(pinfiSchedulerConfiguration({ urlPrefix: 'http://pinfi-scheduler-plugin.pinfi-system.svc:8888' }));
  expect(file).toMatchObject({
    profiles: [{ schedulerName: 'default-scheduler' }, { schedulerName: 'pinfi' }],
    extenders: [{ filterVerb: 'filter', nodeCacheCapable: true, ignorable: false, managedResources: [{ name: 'nvidia.com/gpu', ignoredByScheduler: false }, { name: 'nvidia.com/gpu.shared', ignoredByScheduler: false }] }],
  });
  const standalone = pinfiSchedulerConfiguration({ urlPrefix: 'http://x:8888', standalone: { namespace: 'pinfi-system' } });
  expect(standalone).toMatchObject({ profiles: [{ schedulerName: 'pinfi' }], leaderElection: { resourceName: 'pinfi-scheduler', resourceNamespace: 'pinfi-system' } });
});
