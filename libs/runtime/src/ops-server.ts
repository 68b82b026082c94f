import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** What a probe reports: 200 when `ok`, 503 otherwise, with the details as JSON. */
export type HealthCheck = () => Promise<{ ok: boolean; [detail: string]: unknown }>;

/** Options for {@link startOpsServer}. */
export interface OpsServerOptions {
  port: number;
  /** @defaultValue '0.0.0.0' */
  host?: string;
  registry: Registry;
  /** `/healthz`, liveness: the process and its loop turn. An orchestrator restarts the process when it fails. */
  live: HealthCheck;
  /** `/readyz`, readiness: the dependencies answer and the app can do its work. Failing it takes the app out of rotation. */
  ready: HealthCheck;
}

/** A running ops server. */
export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `/metrics` (Prometheus text), `/healthz` and `/readyz` for the workers, which have no HTTP API of their own. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    void respond(options, req.url ?? '/').then(({ status, type, body }) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function probe(check: HealthCheck): Promise<{ status: number; type: string; body: string }> {
  const result = await check();
  const body = JSON.stringify({ status: result.ok ? 'ok' : 'unavailable', ...result });
  return { status: result.ok ? 200 : 503, type: 'application/json', body };
}

async function respond(
  options: OpsServerOptions,
  url: string,
): Promise<{ status: number; type: string; body: string }> {
  const path = url.split('?')[0];
  try {
    if (path === '/metrics')
      return { status: 200, type: options.registry.contentType, body: await options.registry.metrics() };
    if (path === '/healthz') return await probe(options.live);
    if (path === '/readyz') return await probe(options.ready);
    return {
      status: 404,
      type: 'application/json',
      body: JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }),
    };
  } catch (err) {
    return {
      status: 500,
      type: 'application/json',
      body: JSON.stringify({ error: { code: 'internal', message: (err as Error).message } }),
    };
  }
}
