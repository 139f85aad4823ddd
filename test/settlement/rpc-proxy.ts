// A small JSON-RPC proxy in front of anvil that misbehaves on purpose, for fault tests: it drops connections
// (before or after the request reached the node), delays answers past the client's timeout, answers 5xx, or
// answers null where the node had a result.
// Faults hit a seeded fraction of requests; everything stays on loopback and stops with close().
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FaultMode = {
  /** The connection is closed before the request is forwarded: the node never sees it. */
  Drop: 'drop',
  /** The request reaches the node, then the connection is closed: the answer is lost (a sent transaction!). */
  DropAnswer: 'drop-answer',
  /** The answer comes after `delayMs` (longer than the client waits). */
  Delay: 'delay',
  /** 502/503 from a "gateway", the node never sees the request. */
  ServerError: '5xx',
  /** The node answers, and the proxy replaces the result with null (a receipt the node has not indexed yet). */
  NullResult: 'null-result',
} as const;
export type FaultMode = (typeof FaultMode)[keyof typeof FaultMode];

export type RpcProxy = {
  readonly url: string;
  readonly stats: { requests: number; faults: number };
  /** Faults `rate` (0..1) of the requests from now on (only those calling `methods`, when given; at most `limit`). */
  set(mode: FaultMode, rate: number, methods?: readonly string[], limit?: number): void;
  close(): Promise<void>;
};

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startRpcProxy(target: string, opts: { seed?: number; delayMs?: number } = {}): Promise<RpcProxy> {
  const rand = prng(opts.seed ?? 42);
  let mode: FaultMode = FaultMode.Drop;
  let rate = 0;
  let only: ReadonlySet<string> | undefined;
  let left = Infinity;
  const stats = { requests: 0, faults: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const forward = async (body: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5_000) });
    return { status: res.status, text: await res.text() };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    stats.requests++;
    const { method = '', id } = (() => {
      try {
        return (JSON.parse(body) ?? {}) as { method?: string; id?: unknown };
      } catch {
        return {};
      }
    })();
    const fault = rate > 0 && left > 0 && (!only || only.has(method)) && rand() < rate;
    if (fault) {
      stats.faults++;
      left--;
    }
    if (fault && mode === FaultMode.Drop) {
      req.socket.destroy();
      return;
    }
    if (fault && mode === FaultMode.ServerError) {
      res.writeHead(rand() < 0.5 ? 502 : 503, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
      return;
    }
    let answer: { status: number; text: string };
    try {
      answer = await forward(body);
    } catch {
      req.socket.destroy();
      return;
    }
    if (fault && mode === FaultMode.DropAnswer) {
      req.socket.destroy();
      return;
    }
    if (fault && mode === FaultMode.NullResult) {
      answer = { status: 200, text: JSON.stringify({ jsonrpc: '2.0', id, result: null }) };
    }
    const send = () => {
      if (!res.destroyed) res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.text);
    };
    if (fault && mode === FaultMode.Delay) {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, opts.delayMs ?? 1_000);
      timers.add(t);
    } else {
      send();
    }
  };

  const server = createServer((req, res) => void handle(req, res).catch(() => req.socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    set(m, r, methods, limit = Infinity) {
      mode = m;
      rate = r;
      only = methods ? new Set(methods) : undefined;
      left = limit;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
