/**
 * The status server of `poll --status-port`: `/healthz` (liveness, by the health rule),
 * `/readyz` (polling for work and healthy), `/metrics` (Prometheus text) and `/status.json` (the
 * worker's `status()`). Plain `node:http`: four read-only routes need no framework.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerStatus } from '@envworker/core';
import type { Registry } from 'prom-client';
import { CliError } from '../cli-error.js';
import type { HealthReport } from './health.js';

/** What the status server serves. */
export interface StatusServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly status: () => WorkerStatus;
  readonly health: () => HealthReport;
  readonly registry: Registry;
}

/** A listening status server. */
export interface StatusServer {
  /** `http://host:port`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the status server; a port in use or an address that cannot be bound is a {@link CliError}. */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const server = createServer((request, response) => {
    route(options, request, response).catch((error: unknown) => {
      send(response, 500, 'text/plain; charset=utf-8', `status server error: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  server.listen({ host: options.host, port: options.port });
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : (code ?? String(error));
    throw new CliError(`--status-port: cannot listen on ${options.host}:${options.port}: ${reason}`);
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function route(options: StatusServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://status').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    send(response, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
    return;
  }
  switch (path) {
    case '/healthz': {
      const report = options.health();
      sendJson(response, report.healthy ? 200 : 503, { status: report.healthy ? 'ok' : 'unhealthy', ...report });
      return;
    }
    case '/readyz': {
      const report = options.health();
      const { lifecycle } = options.status();
      const ready = report.healthy && lifecycle === 'running';
      const problems = lifecycle === 'running' ? report.problems : [`the worker is ${lifecycle}, not polling for work`, ...report.problems];
      sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', lifecycle, problems });
      return;
    }
    case '/metrics':
      send(response, 200, options.registry.contentType, await options.registry.metrics());
      return;
    case '/status.json':
      sendJson(response, 200, options.status());
      return;
    default:
      send(response, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz, /metrics or /status.json\n');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
