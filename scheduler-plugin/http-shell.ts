// What the extender's and the webhook's HTTP servers share: a capped body reader, JSON replies,
// and the server timeouts.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export type BodyResult = { ok: true; text: string } | { ok: false; status: 400 | 413; message: string };

/** Reads the whole body as UTF-8, refusing (413) past `maxBytes` without buffering the rest. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      resolve({ ok: false, status: 413, message: `request body of ${declared} bytes exceeds the limit of ${maxBytes}` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        finish({ ok: false, status: 413, message: `request body exceeds the limit of ${maxBytes} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, text: chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8') }));
    req.on('error', (err) => finish({ ok: false, status: 400, message: `could not read the request body: ${err.message}` }));
    req.on('close', () => {
      if (!req.complete) finish({ ok: false, status: 400, message: 'the client closed the connection before the body was complete' });
    });
  });
}

/** Sends `body` (already JSON text) with `status`; closes the connection when asked (after a 413). */
export function sendJson(res: ServerResponse, status: number, body: string, close = false): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (close) res.setHeader('Connection', 'close');
  res.end(body);
}

/**
 * Timeouts: a request must arrive whole within `requestTimeoutMs`, its headers within 5 s. Idle
 * keep-alive connections stay open 120 s: longer than Go's http.Transport keeps idle
 * connections (90 s), so kube-scheduler never sends a request on a connection this server is
 * closing (a POST lost that way would fail a scheduling attempt).
 */
export function setServerTimeouts(server: Server, requestTimeoutMs = 10_000): void {
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(5_000, requestTimeoutMs);
  server.keepAliveTimeout = 120_000;
  server.maxHeadersCount = 100;
}

export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
