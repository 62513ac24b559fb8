import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { connectionLost } from '../src/db/causes.js';
import { classifyConnectionError } from '../src/db/classify.js';

/** Errors shaped exactly as pg, Node's sockets and Neon's proxy raise them (connections.md). */
const neon = parseDatabaseUrl('postgresql://app:pw@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/neondb?sslmode=require');
const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('classifyConnectionError', () => {
  it.each([
    ["Couldn't connect to compute node", 'SERVER_UNAVAILABLE'],
    ['Failed to acquire permit to connect to the database. Too many database connection attempts are currently ongoing.', 'SERVER_UNAVAILABLE'],
    ['Too many connections attempts', 'SERVER_UNAVAILABLE'],
    ['query_wait_timeout', 'SERVER_UNAVAILABLE'],
  ])('retries Neon XX000 "%s"', (message, code) => {
    expect(classifyConnectionError(error(message, 'XX000'), neon)).toMatchObject({ code, transient: true });
  });

  it.each([
    ['password authentication failed for user "app"', 'AUTH_FAILED'],
    [
      'Endpoint ID is not specified. Either please upgrade the postgres client library (libpq) for SNI support or pass the endpoint ID (first part of the domain name) as a parameter',
      'NEON_ENDPOINT_REQUIRED',
    ],
    ['IP address 203.0.113.7 is not allowed to connect to this endpoint', 'IP_NOT_ALLOWED'],
    ['Your account or project has exceeded the compute time quota', 'QUOTA_EXCEEDED'],
    ['unsupported startup parameter: statement_timeout', 'UNSUPPORTED_STARTUP_PARAMETER'],
  ])('does not retry Neon XX000 "%s"', (message, code) => {
    expect(classifyConnectionError(error(message, 'XX000'), neon)).toMatchObject({ code, transient: false });
  });

  it('tells the Neon endpoint id to pass when SNI is missing', () => {
    expect(classifyConnectionError(error('Endpoint ID is not specified', 'XX000'), neon).hint).toContain('options=endpoint%3Dep-cool-darkness-123456');
  });

  it.each([
    ['57P03', 'the database system is starting up', 'SERVER_STARTING'],
    ['53300', 'sorry, too many clients already', 'TOO_MANY_CONNECTIONS'],
    ['ECONNRESET', 'read ECONNRESET', 'CONNECTION_FAILED'],
    ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN db', 'CONNECTION_FAILED'],
    [undefined, 'timeout expired', 'CONNECT_TIMEOUT'],
    [undefined, 'Connection terminated unexpectedly', 'CONNECTION_FAILED'],
  ])('retries %s (%s)', (code, message, expected) => {
    expect(classifyConnectionError(error(message, code), neon)).toMatchObject({ code: expected, transient: true });
  });

  it.each([
    ['28000', 'no pg_hba.conf entry for host "10.0.0.1", user "app", database "neondb", no encryption', 'TLS_REQUIRED'],
    ['42501', 'permission denied for database neondb', 'ACCESS_DENIED'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND db.example.invalid', 'HOST_NOT_FOUND'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'TLS_CERT_INVALID'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", 'TLS_CERT_INVALID'],
    [undefined, 'The server does not support SSL connections', 'TLS_REQUIRED'],
  ])('does not retry %s', (code, message, expected) => {
    expect(classifyConnectionError(error(message, code), neon)).toMatchObject({ code: expected, transient: false });
  });

  it("explains pg's verify-full behaviour only when a certificate check fails for sslmode=require", () => {
    const failure = classifyConnectionError(error('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), neon);
    expect(failure.hint).toMatch(/even for sslmode=require.*uselibpqcompat=true/);
    const verifyFull = parseDatabaseUrl('postgresql://app:pw@db.example.com/db?sslmode=verify-full');
    expect(classifyConnectionError(error('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), verifyFull).hint).not.toMatch(/uselibpqcompat/);
  });

  it("redacts secrets in the driver's words", () => {
    const failure = classifyConnectionError(error('connect failed for postgresql://app:hunter2@db/x'), neon);
    expect(failure.detail).not.toContain('hunter2');
  });
});

describe('connectionLost', () => {
  it.each([
    ['ECONNRESET', true],
    ['EPIPE', true],
    ['ETIMEDOUT', true],
    ['08006', true],
    ['57P01', true],
    ['EEXIST', false],
    ['ENOENT', false],
    ['EACCES', false],
    ['42P01', false],
  ])('takes an error coded %s as a lost connection: %s', (code, lost) => {
    expect(connectionLost(error('something failed', code))).toBe(lost);
  });
});
