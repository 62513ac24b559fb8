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
  /**
   * toClient only: at the first message boundary from `afterBytes` on, the client gets a message no PostgreSQL
   * sends (type 0x01), then the end: the driver fails on it, not the server and not the socket first.
   */
  garble?: boolean;
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

const GARBAGE = Buffer.from([0x01, 0, 0, 0, 4]);

/**
 * Where the server's messages (a type byte and a 4-byte length) start in the stream to the client: the bytes of
 * a chunk that may pass before the first boundary at or after `wanted` more bytes (Infinity: none in this chunk).
 */
function messageBoundaries() {
  let next = 0;
  let seen = 0;
  const header: number[] = [];
  return {
    roomBefore(chunk: Buffer, wanted: number): number {
      for (let i = 0; i < chunk.length; i++, seen++) {
        if (seen === next && i >= wanted) return i;
        if (seen >= next && seen < next + 5) header.push(chunk[i] as number);
        if (header.length === 5) {
          next += 1 + Buffer.from(header.slice(1)).readUInt32BE(0);
          header.length = 0;
        }
      }
      return chunk.length >= wanted && seen === next ? chunk.length : Infinity;
    },
  };
}

export async function startCutProxy(target: string, cut?: Cut): Promise<CutProxy> {
  const { hostname, port } = new URL(target);
  const counts: Record<Direction, number> = { toServer: 0, toClient: 0 };
  const sockets = new Set<Socket>();
  let connections = 0;
  let didCut = false;
  const boundaries = messageBoundaries();
  const server = createServer((client) => {
    const first = ++connections === 1;
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    // Once cut, the receiving side is closed when its last bytes are written, not before.
    client.on('close', () => (first && didCut ? undefined : upstream.destroy()));
    upstream.on('close', () => (first && didCut ? undefined : client.destroy()));
    if (!first) {
      client.pipe(upstream).pipe(client);
      return;
    }
    const forward = (direction: Direction, from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (didCut) return;
        const room =
          cut && cut.direction === direction
            ? cut.garble
              ? boundaries.roomBefore(chunk, cut.afterBytes - counts[direction])
              : cut.afterBytes - counts[direction]
            : Infinity;
        if (chunk.length < room) {
          counts[direction] += chunk.length;
          to.write(chunk);
          return;
        }
        didCut = true;
        counts[direction] += room;
        if (cut?.garble) {
          to.end(Buffer.concat([chunk.subarray(0, room), GARBAGE]), () => to.destroy());
          from.destroy();
          return;
        }
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
