import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { destroyLocalServer, ensureLocalServer, type LocalServer, stopLocalServer } from '../../src/local/index.js';
import { serverUser } from '../../src/local/user.js';

const openssl = (args: string[], cwd: string) => promisify(execFile)('openssl', args, { cwd });

/** A throwaway certificate authority and server certificates it signed, made with openssl at test time. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  /** Certificate and key for a host name, signed by the CA. */
  server(host: string): Promise<{ certFile: string; keyFile: string }>;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeCertificates(): Promise<TestCertificates> {
  // The server runs as postgres when we are root: it must be able to enter this directory.
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-tls-'));
  await chmod(dir, 0o755);
  await openssl(['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=todo-db test CA'], dir);
  return { dir, caFile: join(dir, 'ca.crt'), server: (host) => serverCertificate(dir, host) };
}

async function serverCertificate(dir: string, host: string): Promise<{ certFile: string; keyFile: string }> {
  const [key, csr, cert, ext] = ['key', 'csr', 'crt', 'ext'].map((suffix) => `${host}.${suffix}`) as [string, string, string, string];
  await openssl(['req', '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${host}`], dir);
  await writeFile(join(dir, ext), `subjectAltName = DNS:${host}\nextendedKeyUsage = serverAuth\n`);
  // A serial of its own: -CAcreateserial shares one ca.srl, which two certificates signed at once read half written.
  const serial = `0x${randomBytes(16).toString('hex')}`;
  await openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial, '-days', '2', '-extfile', ext, '-out', cert], dir);
  // PostgreSQL refuses a key that others can read, or that is not owned by the user it runs as.
  const keyFile = join(dir, key);
  await chmod(keyFile, 0o600);
  const as = serverUser();
  if (as) await chown(keyFile, as.uid, as.gid);
  await chmod(join(dir, cert), 0o644);
  return { certFile: join(dir, cert), keyFile };
}

export interface TlsServer extends LocalServer {
  /** The server's URL with another host name in it, for certificate checks (the server listens on 127.0.0.1). */
  urlFor(host: string, params: Record<string, string>): string;
  destroy(): Promise<void>;
}

/**
 * A dedicated embedded PostgreSQL with ssl = on, made the way `todo-db local` makes one. ALTER SYSTEM and a restart,
 * not a reload: the settings are then in force when start returns, with no window where the old ones still apply.
 */
export async function startTlsServer(files: { certFile: string; keyFile: string }): Promise<TlsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-tls-server-'));
  const first = await ensureLocalServer({ dir, timeoutMs: 120_000 });
  await configure(first.url, { ssl_cert_file: files.certFile, ssl_key_file: files.keyFile, ssl: 'on' });
  await stopLocalServer({ dir });
  const server = await ensureLocalServer({ dir, timeoutMs: 120_000 });
  return {
    ...server,
    urlFor: (host, params) => {
      const url = new URL(server.url);
      url.hostname = host;
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      return url.toString();
    },
    destroy: async () => void (await destroyLocalServer({ dir })),
  };
}

async function configure(url: string, settings: Record<string, string>): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    for (const [name, value] of Object.entries(settings)) await client.query(`alter system set ${name} = '${value.replaceAll("'", "''")}'`);
  } finally {
    await client.end();
  }
}
