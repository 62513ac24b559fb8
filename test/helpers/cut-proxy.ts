import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy between a client and PostgreSQL that cuts the first connection it forwards after exactly N bytes in
 * one direction: the receiving side gets the first N bytes, then the connection ends (both sockets closed, as a
 * broken link or a killed pooler would leave them). Later connections (the pooler check's, a read-back) pass
 * whole. Without a cut it counts the first connection's bytes each way, to choose offsets from. Loopback only.
 */
export type Direction = 'toServer' | 'toClient';

export interface Cut {
  direction: Direction;
  afterBytes: number;
}

export interface CutProxy {
  /** The target URL with its host and port replaced by the proxy's. */
  url(target: string): string;
  /** Bytes the first connection carried each way (up to the cut). */
  bytes(): Record<Direction, number>;
  /** Whether the cut happened. */
  cut(): boolean;
  close(): Promise<void>;
}

export async function startCutProxy(target: string, cut?: Cut): Promise<CutProxy> {
  const { hostname, port } = new URL(target);
  const counts: Record<Direction, number> = { toServer: 0, toClient: 0 };
  const sockets = new Set<Socket>();
  let connections = 0;
  let didCut = false;
  const server = createServer((client) => {
    const first = ++connections === 1;
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    // Once cut, the receiving side is closed when its last bytes are written, not before.
    client.on('close', () => first && didCut ? undefined : upstream.destroy());
    upstream.on('close', () => first && didCut ? undefined : client.destroy());
    if (!first) {
      client.pipe(upstream).pipe(client);
      return;
    }
    const forward = (direction: Direction, from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (didCut) return;
        const room = cut && cut.direction === direction ? cut.afterBytes - counts[direction] : Infinity;
        if (chunk.length < room) {
          counts[direction] += chunk.length;
          to.write(chunk);
          return;
        }
        didCut = true;
        counts[direction] += room;
        // The receiver gets its N bytes, then the end of the stream; the sender's side is closed at once.
        to.end(chunk.subarray(0, room), () => to.destroy());
        from.destroy();
      });
    forward('toServer', client, upstream);
    forward('toClient', upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const proxyPort = typeof address === 'object' && address ? address.port : 0;
  return {
    url: (to) => Object.assign(new URL(to), { hostname: '127.0.0.1', port: String(proxyPort) }).toString(),
    bytes: () => ({ ...counts }),
    cut: () => didCut,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
