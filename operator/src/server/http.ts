// The operator's HTTP surface: /healthz, /readyz, /metrics and the read-only quote endpoint.
import express, { type Request, type Response, type NextFunction } from 'express';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Clock } from '../kube/clock.js';
import type { Logger } from '../telemetry/logger.js';
import type { MarketView } from '../pools/market-view.js';
import { answerQuote } from './quote.js';

export type HttpDeps = {
  registry: Registry;
  market: MarketView;
  clock: Clock;
  logger: Logger;
  /** Ready when the caches have synced (a standby replica is ready too: it serves quotes). */
  ready: () => boolean;
  /** Live unless a fatal condition was seen. */
  live?: () => boolean;
  /** The leases as the operator's cache holds them (for /leases and the live view). */
  leases?: () => readonly LeaseSummary[];
};

export type LeaseSummary = {
  namespace: string;
  name: string;
  pool: string;
  gpus: number;
  duration: string;
  phase: string;
  pricePerGpuHour?: string;
  total?: string;
  endTime?: string;
  openTx?: string;
  settleTx?: string;
  refund?: string;
  closeReason?: string;
  message?: string;
};

export function httpApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    if (deps.live && !deps.live()) res.status(503).json({ status: 'unhealthy' });
    else res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'caches not synced yet' });
  });
  app.get('/metrics', async (_req, res, next) => {
    try {
      res.set('content-type', deps.registry.contentType).send(await deps.registry.metrics());
    } catch (e) {
      next(e);
    }
  });
  app.get('/quote', (req, res) => {
    const a = answerQuote(deps.market, req.query as Record<string, unknown>, Math.floor(deps.clock.now() / 1000));
    res.status(a.status).json(a.body);
  });
  app.get('/pools', (_req, res) => {
    const now = Math.floor(deps.clock.now() / 1000);
    res.json(
      deps.market.names().map((name) => {
        const s = deps.market.stateAt(name, now);
        return {
          name,
          allocatable: s?.state.allocatable,
          free: s?.state.free,
          spotPrice: deps.market.spot(name, now)?.toString(),
          product: s?.market.inventory.product,
        };
      }),
    );
  });
  app.get('/leases', (_req, res) => {
    res.json(deps.leases ? deps.leases() : []);
  });
  app.use((_req, res) => res.status(404).json({ error: 'not found: try /quote?pool=NAME&gpus=N&hours=H, /pools, /leases, /metrics, /healthz, /readyz' }));
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    deps.logger.error('http handler failed', { err: err.message });
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}

export function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.on('error', reject);
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
  });
}
