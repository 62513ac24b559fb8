/** Port choice: the hash-derived preferred port, or the next free one after it. */
import net from 'node:net';
import { PORT_BASE, PORT_SPAN, preferredPort } from './paths.js';

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Walks the range once from the preferred port, wrapping around, skipping `avoid`. */
export async function pickPort(dir: string, avoid: number[] = []): Promise<number | undefined> {
  const first = preferredPort(dir);
  for (let i = 0; i < PORT_SPAN; i++) {
    const port = PORT_BASE + ((first - PORT_BASE + i) % PORT_SPAN);
    if (!avoid.includes(port) && (await isPortFree(port))) return port;
  }
  return undefined;
}
