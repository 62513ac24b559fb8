import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const HEALTH_PATH = '/api/v1/health';

export interface HealthServerOptions {
  port: number;
  host: string;
  /** The JSON document and its HTTP status for one health check. */
  respond: () => Promise<{ statusCode: number; body: unknown }>;
}

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

/** GET /api/v1/health answers 200 or 503 with the health document; every other path is 404. */
export async function serveHealth({ port, host, respond }: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const send = (statusCode: number, body: unknown) => {
      response.writeHead(statusCode, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(`${JSON.stringify(body, null, 2)}\n`);
    };
    if (path !== HEALTH_PATH)
      return send(404, { error: { code: 'NOT_FOUND', message: `Nothing at ${path}.`, hint: `The health document is at ${HEALTH_PATH}.` } });
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return send(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not supported.`, hint: 'Use GET.' } });
    respond().then(
      ({ statusCode, body }) => send(statusCode, body),
      (error: Error) => send(500, { error: { code: 'INTERNAL_ERROR', message: error.message, hint: 'See the server log.' } }),
    );
  });
  await listen(server, port, host);
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}${HEALTH_PATH}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
