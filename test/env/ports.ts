// Free TCP ports on loopback, and a check that a chosen port is free (a port in use is an error
// that names it, not a hang).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function assertPortFree(port: number, who: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`${who}: port ${port} is in use (${err.code}); choose another port or stop what holds it`)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}
