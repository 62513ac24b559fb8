import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './helpers/cli.js';
import { adminUrl } from './helpers/database.js';
import { makeCertificates, startTlsServer, type TestCertificates, type TlsServer } from './helpers/tls.js';

/**
 * Real TLS: PostgreSQL servers with ssl = on and certificates from a CA made for this run. Every connection goes to
 * 127.0.0.1; host names only change what the certificate is checked against.
 */
const checkConnection = (url: string, ...args: string[]) => runCli(['check-connection', '--json', ...args], { env: { DATABASE_URL: url } });
const attemptLines = (result: CliResult) => result.stderr.split('\n').filter((line) => /^attempt \d+\/\d+ failed/.test(line));

describe('TLS to PostgreSQL', () => {
  let certs: TestCertificates;
  let trusted: TlsServer;
  let wrongHost: TlsServer;

  beforeAll(async () => {
    certs = await makeCertificates();
    const [forLocalhost, forWrongHost] = await Promise.all([certs.server('localhost'), certs.server('wrong.example')]);
    [trusted, wrongHost] = await Promise.all([startTlsServer(forLocalhost), startTlsServer(forWrongHost)]);
  });
  afterAll(async () => {
    await Promise.all([trusted?.destroy(), wrongHost?.destroy()]);
    if (certs) await rm(certs.dir, { recursive: true, force: true });
  });

  it('verify-full with the CA connects to localhost and reports TLS in use', async () => {
    const result = await checkConnection(trusted.urlFor('localhost', { sslmode: 'verify-full', sslrootcert: certs.caFile }));
    expect(result.code).toBe(0);
    expect(result.json().data).toMatchObject({ tls: true, tlsVersion: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(result.stdout + result.stderr).not.toContain(trusted.password);
  });

  it('a certificate for another host fails as TLS_CERT_INVALID at once, even with retries', async () => {
    const result = await checkConnection(wrongHost.urlFor('localhost', { sslmode: 'verify-full', sslrootcert: certs.caFile }), '--retries', '3');
    expect(result.code).toBe(1);
    const { error } = result.json();
    expect(error.code).toBe('TLS_CERT_INVALID');
    expect(error.message).toContain('localhost');
    expect(attemptLines(result)).toEqual([expect.stringMatching(/^attempt 1\/4 failed: TLS_CERT_INVALID .*no retry$/)]);
    expect(result.stdout + result.stderr).not.toContain(wrongHost.password);
  });

  it('verify-full without the CA fails as TLS_CERT_INVALID: the system store does not trust a private CA', async () => {
    const result = await checkConnection(trusted.urlFor('localhost', { sslmode: 'verify-full' }), '--retries', '3');
    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({ code: 'TLS_CERT_INVALID', hint: expect.stringContaining('sslrootcert') });
    expect(attemptLines(result)).toHaveLength(1);
  });

  it('sslmode=require checks the certificate as pg does, and says how to get libpq behaviour', async () => {
    const strict = await checkConnection(wrongHost.urlFor('localhost', { sslmode: 'require', sslrootcert: certs.caFile }));
    expect(strict.json().error).toMatchObject({ code: 'TLS_CERT_INVALID', hint: expect.stringContaining('uselibpqcompat=true') });
    const libpq = await checkConnection(wrongHost.urlFor('localhost', { sslmode: 'require', uselibpqcompat: 'true' }));
    expect(libpq.code).toBe(0);
    expect(libpq.json().data).toMatchObject({ tls: true });
  });

  it('verify-ca with libpq semantics checks the chain but not the host name', async () => {
    const chainOnly = await checkConnection(wrongHost.urlFor('localhost', { sslmode: 'verify-ca', uselibpqcompat: 'true', sslrootcert: certs.caFile }));
    expect(chainOnly.code).toBe(0);
    const untrusted = await checkConnection(wrongHost.urlFor('localhost', { sslmode: 'verify-ca', uselibpqcompat: 'true' }));
    expect(untrusted.json().error).toMatchObject({ code: 'TLS_CERT_INVALID' });
  });

  it('sslmode=disable to a non-local host is refused before any connection is attempted', async () => {
    // .invalid never resolves (RFC 2606): a lookup would show up as HOST_NOT_FOUND.
    const result = await checkConnection('postgresql://todo:secret-pw@db.todo.invalid:5432/todo?sslmode=disable', '--retries', '3');
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'INSECURE_CONNECTION_REFUSED', message: expect.stringContaining('db.todo.invalid') });
    expect(attemptLines(result)).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain('secret-pw');
  });

  it('sslmode=require against a server without TLS gives TLS_REQUIRED with a hint', async () => {
    const url = adminUrl();
    url.searchParams.set('sslmode', 'require');
    const result = await checkConnection(url.toString(), '--retries', '3');
    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({ code: 'TLS_REQUIRED', hint: expect.stringMatching(/ssl/i) });
    expect(attemptLines(result)).toHaveLength(1);
    expect(result.stdout + result.stderr).not.toContain(url.password);
  });
});
