import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { redact, redactDeep, registerSecret } from '../src/config/redact.js';

describe('parseDatabaseUrl', () => {
  it('reads every part of a full URL and decodes percent-encoding', () => {
    const url = parseDatabaseUrl('postgresql://app%40team:p%23ss@db.example.com:6543/my%20db?application_name=web');
    expect(url).toMatchObject({
      user: 'app@team',
      password: 'p#ss',
      host: 'db.example.com',
      port: 6543,
      database: 'my db',
      applicationName: 'web',
      isLocal: false,
    });
  });

  it('accepts postgres:// and postgresql+asyncpg:// (with a warning)', () => {
    expect(parseDatabaseUrl('postgres://u@localhost/db').warnings).toEqual([]);
    const asyncpg = parseDatabaseUrl('postgresql+asyncpg://u@localhost/db');
    expect(asyncpg.database).toBe('db');
    expect(asyncpg.warnings[0]).toMatch(/postgresql\+asyncpg/);
  });

  it.each(['localhost', '127.0.0.1', '127.8.9.10', '[::1]'])('treats %s as local: no TLS by default', (host) => {
    const url = parseDatabaseUrl(`postgresql://u@${host}:5432/db`);
    expect(url.isLocal).toBe(true);
    expect(url.tls.enabled).toBe(false);
  });

  it('treats a Unix socket directory as local', () => {
    const url = parseDatabaseUrl('postgresql://u@%2Fvar%2Frun%2Fpostgresql/db');
    expect(url).toMatchObject({ host: '/var/run/postgresql', socket: true, isLocal: true });
    expect(parseDatabaseUrl('postgresql:///db?host=/tmp').host).toBe('/tmp');
  });

  it('requires verified TLS for remote hosts by default', () => {
    expect(parseDatabaseUrl('postgresql://u@db.example.com/db').tls).toMatchObject({ enabled: true, verification: 'full', stricterThanLibpq: false });
  });

  it("keeps pg's certificate checks for sslmode=require and remembers that they are stricter than libpq", () => {
    expect(parseDatabaseUrl('postgresql://u@db.example.com/db?sslmode=require').tls).toMatchObject({
      enabled: true,
      verification: 'full',
      stricterThanLibpq: true,
    });
    expect(parseDatabaseUrl('postgresql://u@db.example.com/db?sslmode=require&uselibpqcompat=true').tls).toMatchObject({
      verification: 'none',
      stricterThanLibpq: false,
    });
    expect(parseDatabaseUrl('postgresql://u@db.example.com/db?sslmode=verify-ca&uselibpqcompat=true').tls.verification).toBe('chain-only');
    expect(parseDatabaseUrl('postgresql://u@db.example.com/db?sslmode=no-verify').tls).toMatchObject({ enabled: true, verification: 'none' });
  });

  it('refuses sslmode=disable to a remote host unless insecure connections are allowed', () => {
    expect(() => parseDatabaseUrl('postgresql://u@db.example.com/db?sslmode=disable')).toThrow(/not a local host/);
    const allowed = parseDatabaseUrl('postgresql://u@db.example.com/db?sslmode=disable', { allowInsecure: true });
    expect(allowed.tls.enabled).toBe(false);
    expect(allowed.warnings.join()).toMatch(/TLS is disabled/);
  });

  it('recognises Neon hosts, direct and pooled', () => {
    const direct = parseDatabaseUrl('postgresql://u:p@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require');
    expect(direct).toMatchObject({ neon: { endpointId: 'ep-cool-darkness-123456' }, pooled: false, channelBinding: true });
    const pooled = parseDatabaseUrl('postgresql://u:p@ep-cool-darkness-123456-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require');
    expect(pooled).toMatchObject({ neon: { endpointId: 'ep-cool-darkness-123456' }, pooled: true });
  });

  it('treats pgbouncer=true and port 6432 as pooled, and refuses startup options there', () => {
    expect(parseDatabaseUrl('postgresql://u@localhost:6432/db').pooled).toBe(true);
    expect(parseDatabaseUrl('postgresql://u@localhost/db?pgbouncer=true').pooled).toBe(true);
    expect(() => parseDatabaseUrl('postgresql://u@localhost:6432/db?options=-c%20statement_timeout%3D5s')).toThrow(/unsupported startup parameter/);
  });

  it('honours connect_timeout in seconds, which pg itself ignores', () => {
    expect(parseDatabaseUrl('postgresql://u@localhost/db?connect_timeout=7').connectTimeoutMs).toBe(7000);
  });

  it("warns about unknown parameters but accepts Prisma's", () => {
    expect(parseDatabaseUrl('postgresql://u@localhost/db?schema=public&connection_limit=5').warnings).toEqual([]);
    expect(parseDatabaseUrl('postgresql://u@localhost/db?colour=blue').warnings.join()).toMatch(/unknown parameter "colour"/);
  });

  it('defaults the database to the user name, like libpq', () => {
    expect(parseDatabaseUrl('postgresql://alice@localhost').database).toBe('alice');
  });
});

describe('redact', () => {
  it('masks passwords in URLs, password= fields and registered secrets', () => {
    registerSecret('hunter2-very-secret');
    const text = 'postgresql://bob:s3cret@db:5432/x password=abc failed for hunter2-very-secret and hunter2-very-secret';
    const out = redact(text);
    expect(out).toBe('postgresql://bob:****@db:5432/x password=**** failed for **** and ****');
  });

  it('masks a password that is also a word of the URL, but not the words it is part of', () => {
    registerSecret('postgres');
    expect(redact('postgresql://postgres:postgres@localhost:5432/postgres?sslmode=disable')).toBe('postgresql://****:****@localhost:5432/****?sslmode=disable');
    expect(redact('postgres://app:x@db/app: the password postgres, "postgres" and postgres.')).toBe(
      'postgres://app:****@db/app: the password ****, "****" and ****.',
    );
    expect(redact('postgresstrong and mypostgres are other words')).toBe('postgresstrong and mypostgres are other words');
  });

  it('masks every string in a JSON document', () => {
    expect(redactDeep({ a: ['postgresql://u:pw@h/d'], b: { c: 1 } })).toEqual({ a: ['postgresql://u:****@h/d'], b: { c: 1 } });
  });
});

describe('a password with special characters never reaches a message', () => {
  const SPECIALS = ['/', '?', '#', '@', ':', '%', '&', '=', '+', ' ', "'"];
  const secret = (special: string) => `Pw${special}Zx9Kq`;

  it.each(SPECIALS)('percent-encoded %j: parsed back exactly', (special) => {
    const url = parseDatabaseUrl(`postgresql://app:${encodeURIComponent(secret(special))}@db.example.com:5432/todo`);
    expect(url).toMatchObject({ user: 'app', password: secret(special), host: 'db.example.com', port: 5432, database: 'todo' });
  });

  it.each(SPECIALS)('raw %j: accepted as the password, or refused naming the part by position, quoting none of it', (special) => {
    const raw = `postgresql://app:${secret(special)}@db.example.com:5432/todo`;
    let parsed: ReturnType<typeof parseDatabaseUrl> | undefined;
    let message = '';
    try {
      parsed = parseDatabaseUrl(raw);
    } catch (error) {
      message = `${(error as Error).message} ${(error as { hint: string }).hint}`;
    }
    if (parsed) {
      // Where the raw character is unambiguous (":", "@", "&", "=", "+", space, quote), it is simply the password.
      expect(parsed.password).toBe(secret(special));
      expect(parsed.warnings.join(' ')).not.toContain('Zx9Kq');
    } else {
      expect(message).not.toContain('Zx9Kq');
      expect(message).not.toMatch(/"Pw/);
      expect(message).toMatch(/the part before the "@"|percent-encoding in the password/);
    }
  });

  it('says where the problem is for a raw "/" or "?" without quoting the value', () => {
    expect(() => parseDatabaseUrl('postgresql://app:ab/cd@db.example.com/todo')).toThrow(
      /raw "\/", "\?" or "#" in the part before the "@" \(the user name or the password after it\)/,
    );
    expect(() => parseDatabaseUrl('postgresql://app:ab?cd@db.example.com/todo')).toThrow(/part before the "@"/);
    // A password cut at "#" by a .env file leaves "user:pass" as host:port: the port is not quoted.
    expect(() => parseDatabaseUrl('postgresql://app:Secret')).toThrow(/port \(the part after the host name's ":"\) that is not a number\.$/);
  });
});

describe("the Python services' URLs", () => {
  it.each(['postgresql+asyncpg', 'postgresql+psycopg2', 'postgresql+psycopg', 'postgresql+pg8000'])(
    'accepts %s:// with the same one-line warning',
    (scheme) => {
      const url = parseDatabaseUrl(`${scheme}://u@localhost/db`);
      expect(url.database).toBe('db');
      expect(url.warnings).toEqual([`DATABASE_URL uses the Python driver scheme ${scheme}://; todo-db treats it as postgresql://.`]);
    },
  );

  it.each([
    ['require', 'require'],
    ['verify-ca', 'verify-ca'],
    ['verify-full', 'verify-full'],
    ['prefer', 'prefer'],
    ['allow', 'allow'],
    ['disable', 'disable'],
  ])("maps asyncpg's ssl=%s to sslmode=%s, with no unknown-parameter warning", (ssl, sslmode) => {
    const url = parseDatabaseUrl(`postgresql+asyncpg://u@db.example.com/db?ssl=${ssl}`, { allowInsecure: true });
    expect(url.sslmode).toBe(sslmode);
    expect(url.warnings.join(' ')).not.toMatch(/unknown parameter/);
  });

  it('turns TLS on for ssl=require (it was ignored before, and the connection ran unencrypted)', () => {
    expect(parseDatabaseUrl('postgresql+asyncpg://u@localhost/db?ssl=require').tls.enabled).toBe(true);
  });

  it('refuses ssl= and sslmode= that disagree, and accepts them when they agree', () => {
    expect(() => parseDatabaseUrl('postgresql://u@db.example.com/db?ssl=require&sslmode=verify-full')).toThrow(
      /sslmode=verify-full and ssl=require, which disagree/,
    );
    expect(parseDatabaseUrl('postgresql://u@db.example.com/db?ssl=require&sslmode=require').sslmode).toBe('require');
    expect(() => parseDatabaseUrl('postgresql://u@db.example.com/db?ssl=sometimes')).toThrow(/unknown ssl "sometimes"/);
  });
});
