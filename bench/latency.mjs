// A database at a network distance, on loopback: a TCP proxy that delays each direction by half the round-trip
// time and counts round trips, and a PostgreSQL with TLS on, its certificate made at bench time.
//
// A round trip is a client flight that the server answers: counted when the server speaks after the client last
// did on that connection (a Terminate, which gets no answer, is not one). It counts the same with TLS on, where
// the messages themselves cannot be read: TLS's own handshake flights count too, as they cost the same on the wire.
//
// As a program: node bench/latency.mjs --rtt 20 --target 127.0.0.1:5432 [--port 0]
//   prints the port it listens on, then the counts on SIGINT/SIGTERM.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, root, stringFlag, withClient } from './lib.mjs';

/** Listens on 127.0.0.1 and forwards to `target`, each direction delayed by rttMs / 2. */
export async function startLatencyProxy({ target, rttMs }) {
  const oneWay = rttMs / 2;
  const counts = { connections: 0, roundTrips: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    counts.connections++;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let clientSpokeLast = false;
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const relay = (from, to, onChunk) => {
      // Each chunk leaves at its arrival time plus the delay: order is kept, as timers of equal delay fire in order.
      from.on('data', (chunk) => {
        onChunk();
        if (oneWay === 0) to.write(chunk);
        else setTimeout(() => to.writable && to.write(chunk), oneWay);
      });
      from.on('end', () => setTimeout(() => to.end(), oneWay));
      from.on('error', () => to.destroy());
      from.on('close', () => setTimeout(() => to.destroy(), oneWay));
    };
    relay(client, upstream, () => (clientSpokeLast = true));
    relay(upstream, client, () => {
      if (clientSpokeLast) counts.roundTrips++;
      clientSpokeLast = false;
    });
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    counts: () => ({ ...counts }),
    reset: () => Object.assign(counts, { connections: 0, roundTrips: 0 }),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** `url` with its host and port replaced by the proxy's (host kept as a name, for verify-full). */
export function throughProxy(url, proxy, host = 'localhost') {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(proxy.port);
  return u.toString();
}

const openssl = (args, cwd) => execFileSync('openssl', args, { cwd, stdio: 'ignore' });
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A local todo-db server of its own (in a temp folder) with ssl = on and a certificate for `localhost` signed by
 * a CA made now. Returns its plain URL and the CA file, for `sslmode=verify-full&sslrootcert=...`.
 */
export async function startTlsServer() {
  const dir = mkdtempSync(join(tmpdir(), 'todo-db-bench-tls-'));
  chmodSync(dir, 0o755); // as root, the server runs as postgres and must read the certificate
  openssl(['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=todo-db bench CA'], dir);
  openssl(['req', '-new', ...EC_KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName = DNS:localhost\nextendedKeyUsage = serverAuth\n');
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt'],
    dir,
  );
  chmodSync(join(dir, 'server.key'), 0o600);
  chmodSync(join(dir, 'server.crt'), 0o644);
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(join(dir, 'server.key'), uid, gid);
  }
  const localDir = join(dir, 'data');
  const todoDb = (...args) =>
    execFileSync(process.execPath, [...cli, ...args, '--local-dir', localDir], { cwd: root, env: benchEnv(), stdio: ['ignore', 'pipe', 'inherit'] }).toString();
  todoDb('local', 'start', '--quiet');
  const url = JSON.parse(todoDb('local', 'url', '--show-password', '--json')).data.url;
  await withClient(url, async (client) => {
    for (const [name, value] of [
      ['ssl_cert_file', join(dir, 'server.crt')],
      ['ssl_key_file', join(dir, 'server.key')],
      ['ssl', 'on'],
    ]) {
      await client.query(`alter system set ${name} = '${value}'`);
    }
  });
  todoDb('local', 'stop', '--quiet');
  todoDb('local', 'start', '--quiet');
  const caFile = join(dir, 'ca.crt');
  return {
    url,
    caFile,
    /** The URL through a proxy, TLS verified against the bench CA. */
    tlsUrl: (proxy) => {
      const u = new URL(throughProxy(url, proxy));
      u.searchParams.set('sslmode', 'verify-full');
      u.searchParams.set('sslrootcert', caFile);
      return u.toString();
    },
    destroy: () => {
      try {
        todoDb('local', 'stop', '--quiet');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function benchEnv() {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.DIRECT_DATABASE_URL;
  return env;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [host, port] = stringFlag('--target', '127.0.0.1:5432').split(':');
  const rttMs = Number(stringFlag('--rtt', '20'));
  const proxy = await startLatencyProxy({ target: { host, port: Number(port) }, rttMs });
  console.log(`listening on 127.0.0.1:${proxy.port}, forwarding to ${host}:${port} with ${rttMs} ms round trips`);
  const stop = async () => {
    console.log(JSON.stringify(proxy.counts()));
    await proxy.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
