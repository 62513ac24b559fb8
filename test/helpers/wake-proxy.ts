import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.js';

/**
 * A stand-in for a suspended Neon compute: its port refuses connections (nothing listens, so the kernel answers
 * with RST and pg sees ECONNREFUSED) until the wake-up time, then forwards every connection to the real server.
 * Loopback only.
 */
export interface WakeProxy {
  port: number;
  /** The target URL with its host and port replaced by the proxy's. */
  url(target: string): string;
  /** Connections forwarded since waking. */
  forwarded(): number;
  close(): Promise<void>;
}

export interface WakeProxyOptions {
  targetHost: string;
  targetPort: number;
  /** How long the port refuses connections, from now. */
  asleepMs: number;
}

export async function startWakeProxy({ targetHost, targetPort, asleepMs }: WakeProxyOptions): Promise<WakeProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let forwarded = 0;
  const server = createServer((client) => {
    forwarded++;
    const upstream = createConnection({ host: targetHost, port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {}); // either side may vanish (kill -9); the other is destroyed below
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  let closed = false;
  const timer = setTimeout(() => void listenWithRetry(server, port, () => closed), asleepMs);
  return {
    port,
    url: (target) => Object.assign(new URL(target), { hostname: '127.0.0.1', port: String(port) }).toString(),
    forwarded: () => forwarded,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Another process may briefly hold the port (an outgoing socket's local end); try again rather than fail. */
async function listenWithRetry(server: Server, port: number, cancelled: () => boolean): Promise<void> {
  for (let tries = 0; tries < 50 && !cancelled(); tries++) {
    const error = await new Promise<Error | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', resolve);
        resolve(undefined);
      });
    });
    if (!error) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
