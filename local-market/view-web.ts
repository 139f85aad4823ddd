// The browser live view: a small page on loopback with price and utilisation charts per pool,
// the lease table and recent settlements, polling /api/state (sampled from the operator's API).
import express from 'express';
import type { Server } from 'node:http';
import { listen } from '../operator/src/server/http.js';
import type { MarketSampler } from './state.js';
import { PAGE } from './page.js';

export async function startWebView(sampler: MarketSampler, port: number): Promise<{ url: string; server: Server }> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => res.type('html').send(PAGE));
  app.get('/api/state', (_req, res) => res.json(sampler.state));
  const server = await listen(app, port, '127.0.0.1');
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}/`, server };
}
