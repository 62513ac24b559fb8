import { connect } from 'node:net';

/**
 * When pg only says "Connection terminated unexpectedly", find out whether PostgreSQL is listening at all:
 * send an SSLRequest, to which every PostgreSQL server and pooler answers with a single 'S' or 'N' (or an
 * 'E' error). Anything else means another kind of server is on that port. Returns what it answered, or
 * undefined when it could not tell (closed without a byte, timed out).
 */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export interface ProtocolVerdict {
  postgres: boolean;
  firstBytes: string;
}

export function probePostgresProtocol(host: string, port: number, timeoutMs = 2000): Promise<ProtocolVerdict | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (verdict: ProtocolVerdict | undefined) => {
      socket.destroy();
      resolve(verdict);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
    socket.on('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (data: Buffer) => {
      const first = String.fromCharCode(data[0] ?? 0);
      finish({ postgres: ['S', 'N', 'E'].includes(first), firstBytes: printable(data.subarray(0, 24)) });
    });
  });
}

function printable(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}
