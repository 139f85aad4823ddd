// The extender's HTTP shell: POST /filter and /prioritize (kube-scheduler's extender protocol),
// GET /healthz, /readyz and /metrics. Decisions come from filter.ts over the caches; this file
// only reads bodies, maps errors into the protocol and records metrics. It writes nothing to the
// API server.
//
// Error handling, by verb:
//   filter      every failure is a 200 with `Error` set (valid JSON the scheduler can decode):
//               malformed or truncated JSON, missing fields, caches not synced, a bug. A body
//               over the limit is a 413 (the scheduler fails the attempt either way).
//   prioritize  4xx with a JSON message: the scheduler ignores prioritize errors.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registerOnce } from '../operator/src/telemetry/metrics.js';
import { errorFields, silentLogger, type Logger } from '../operator/src/telemetry/logger.js';
import { filterNodes, prioritizeNodes, type Placement, type SchedulingView } from './filter.js';
import { closeServer, listenOn, readBody, sendJson, setServerTimeouts } from './http-shell.js';
import { encodeFilterError, encodeFilterResult, readExtenderArgs } from './protocol.js';

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export type ExtenderOptions = {
  view: SchedulingView;
  /** Records where a lease pod was sent (LeaseUsage.place); unplace forgets a pod's earlier placement. */
  placements?: { place(uid: string, lease: string, node: string, requests: ReadonlyMap<string, number>): void; unplace(uid: string): void };
  /** Whether the caches have synced; until then filter answers with an Error. */
  ready: () => boolean;
  registry?: Registry;
  logger?: Logger;
  maxBodyBytes?: number;
};

type Metrics = { duration: Histogram<'verb'>; decisions: Counter<'result'> };

function metrics(registry: Registry | undefined): Metrics | undefined {
  if (!registry) return undefined;
  return {
    duration: registerOnce(registry, 'pinfi_extender_request_duration_seconds', () =>
      new Histogram({
        name: 'pinfi_extender_request_duration_seconds',
        help: 'Time to answer one extender request, from the last body byte to the reply',
        labelNames: ['verb'],
        buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
        registers: [],
      }),
    ),
    decisions: registerOnce(registry, 'pinfi_extender_filter_total', () =>
      new Counter({
        name: 'pinfi_extender_filter_total',
        help: 'Filter answers by result: passthrough (no lease), placed (a lease pod sent to a node), rejected (no node fits), error',
        labelNames: ['result'],
        registers: [],
      }),
    ),
  };
}

const filterError = encodeFilterError;

export function extenderHandler(opts: ExtenderOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const logger = (opts.logger ?? silentLogger).child({ component: 'extender' });
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const m = metrics(opts.registry);

  const filter = (text: string): { body: string; result: string } => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { body: filterError(`request body is not valid JSON: ${(err as Error).message}`), result: 'error' };
    }
    const args = readExtenderArgs(parsed);
    if (!args.ok) return { body: filterError(args.error), result: 'error' };
    if (!opts.ready()) return { body: filterError('the pinfi extender has not synced its caches yet; the pod is retried'), result: 'error' };
    const { pod } = args.value;
    if (pod.uid) opts.placements?.unplace(pod.uid);
    const decision = filterNodes(args.value, opts.view);
    const p: Placement | undefined = decision.placement;
    if (p && pod.uid) opts.placements?.place(pod.uid, p.lease, p.node, p.requests);
    if (pod.lease !== undefined) {
      logger.debug('filtered', { pod: `${pod.namespace}/${pod.name}`, lease: pod.lease, node: p?.node, candidates: args.value.nodeNames.length });
    }
    const result = pod.lease === undefined ? 'passthrough' : p ? 'placed' : 'rejected';
    return { body: encodeFilterResult(decision), result };
  };

  const prioritize = (text: string): { status: number; body: string } => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { status: 400, body: JSON.stringify({ error: `request body is not valid JSON: ${(err as Error).message}` }) };
    }
    const args = readExtenderArgs(parsed);
    if (!args.ok) return { status: 400, body: JSON.stringify({ error: args.error }) };
    if (!opts.ready()) return { status: 200, body: JSON.stringify(args.value.nodeNames.map((Host) => ({ Host, Score: 0 }))) };
    return { status: 200, body: JSON.stringify(prioritizeNodes(args.value, opts.view)) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const verb = path.endsWith('/filter') ? 'filter' : path.endsWith('/prioritize') ? 'prioritize' : undefined;
    if (verb === undefined) {
      if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, '{"status":"ok"}');
      if (req.method === 'GET' && path === '/readyz') {
        return opts.ready() ? sendJson(res, 200, '{"status":"ready"}') : sendJson(res, 503, '{"status":"caches not synced yet"}');
      }
      if (req.method === 'GET' && path === '/metrics' && opts.registry) {
        const text = await opts.registry.metrics();
        res.setHeader('Content-Type', opts.registry.contentType);
        res.end(text);
        return;
      }
      req.resume();
      return sendJson(res, 404, JSON.stringify({ error: 'not found: POST /filter or /prioritize (kube-scheduler extender), GET /healthz, /readyz, /metrics' }));
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      return sendJson(res, 405, JSON.stringify({ error: `${verb} takes POST` }));
    }
    const body = await readBody(req, maxBody);
    const started = process.hrtime.bigint();
    if (!body.ok) {
      m?.decisions.inc({ result: 'error' });
      const close = body.status === 413;
      return sendJson(res, body.status, verb === 'filter' ? filterError(body.message) : JSON.stringify({ error: body.message }), close);
    }
    if (verb === 'filter') {
      const out = filter(body.text);
      sendJson(res, 200, out.body);
      m?.decisions.inc({ result: out.result });
    } else {
      const out = prioritize(body.text);
      sendJson(res, out.status, out.body);
    }
    m?.duration.observe({ verb }, Number(process.hrtime.bigint() - started) / 1e9);
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Never a 5xx from an exception: the filter answers in-band, prioritize with a 400.
      logger.error('extender request failed', { path: req.url, err: errorFields(err) });
      m?.decisions.inc({ result: 'error' });
      const isFilter = (req.url ?? '').split('?', 1)[0]?.endsWith('/filter') ?? false;
      if (isFilter) sendJson(res, 200, filterError(`internal error in the pinfi extender: ${(err as Error)?.message ?? String(err)}`));
      else sendJson(res, 400, JSON.stringify({ error: 'internal error' }));
    });
  };
}

export type ExtenderServer = { readonly server: Server; readonly port: number; close(): Promise<void> };

export async function startExtenderServer(opts: ExtenderOptions & { host: string; port: number }): Promise<ExtenderServer> {
  const server = createServer(extenderHandler(opts));
  setServerTimeouts(server);
  // Headers-only 400 for malformed HTTP (client errors), instead of Node's silent close.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  const port = await listenOn(server, opts.port, opts.host);
  return { server, port, close: () => closeServer(server) };
}
