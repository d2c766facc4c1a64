/**
 * faultServer: a FAKE Work API server on 127.0.0.1 that answers each request from a script.
 *
 * It is a fake on purpose, and only for what a real control plane cannot produce on demand: a 529
 * or 429 with a chosen `retry-after`, an HTML 502 from a "proxy", a body cut short by a closed
 * connection, malformed JSON, a wrong field type, a cursor that repeats, a request never answered,
 * a connection reset mid-request. It records every request exactly as it arrived (method, path,
 * query, headers, body) so the tests can assert the client's wire behaviour byte by byte. The
 * client-against-the-real-control-plane tests live elsewhere.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The client's port of the connection it came on: equal ports mean a reused connection. */
  readonly remotePort: number | undefined;
}

/** How the fake server answers one request. */
export type Reply =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'hang' }
  | { kind: 'truncate'; status: number; declaredLength: number; body: string }
  | { kind: 'reset' };

/** A JSON answer (`content-type: application/json`). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { kind: 'answer', status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** An answer with a raw body and content type of the test's choosing. */
export function raw(status: number, contentType: string, body: string, headers: Record<string, string> = {}): Reply {
  return { kind: 'answer', status, headers: { 'content-type': contentType, ...headers }, body };
}

/** A contract error envelope (§2). */
export function apiError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
  details?: Record<string, unknown>,
): Reply {
  return json(status, { type: 'error', error: { type, message, ...(details === undefined ? {} : { details }) } }, headers);
}

/** Never answers; the connection stays open until the client gives up or the server closes. */
export const hang = (): Reply => ({ kind: 'hang' });

/** Declares `declaredLength` bytes of JSON, sends `body` (shorter), then closes the connection. */
export function truncated(status: number, body: string, declaredLength: number): Reply {
  return { kind: 'truncate', status, declaredLength, body };
}

/** Reads the request, then destroys the connection without answering. */
export const reset = (): Reply => ({ kind: 'reset' });

/** The scripted fake server. Unscripted requests get a 418 so a test never passes by accident. */
export class FaultServer {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  #port = 0;
  readonly #script: Reply[] = [];
  readonly #waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts listening on 127.0.0.1 (on `port`, or a free one). */
  static async start(port = 0): Promise<FaultServer> {
    const server = createServer();
    const fault = new FaultServer(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        fault.requests.push({
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          remotePort: req.socket.remotePort,
        });
        fault.#answer(fault.#script.shift(), res);
        fault.#notify();
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    fault.#port = (server.address() as AddressInfo).port;
    return fault;
  }

  /** The port it listens on; still known after `close`, so a test can listen on it again. */
  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Queues answers for the next requests, in order. */
  reply(...replies: Reply[]): this {
    this.#script.push(...replies);
    return this;
  }

  /** Resolves once `count` requests have arrived; rejects after a real-time deadline. */
  waitForRequests(count: number, deadlineMs = 5000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fault server: ${count} requests expected, ${this.requests.length} arrived`)),
        deadlineMs,
      );
      this.#waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Stops listening and drops every open connection (hanging ones included). */
  async close(): Promise<void> {
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  #answer(reply: Reply | undefined, res: ServerResponse): void {
    if (reply === undefined) {
      const body = JSON.stringify({ type: 'error', error: { type: 'fault_server', message: 'no reply scripted' } });
      res.writeHead(418, { 'content-type': 'application/json', 'x-should-retry': 'false' }).end(body);
      return;
    }
    switch (reply.kind) {
      case 'answer':
        res.writeHead(reply.status, { 'request-id': `req_fault_${this.requests.length}`, ...reply.headers }).end(reply.body);
        return;
      case 'hang':
        return;
      case 'truncate':
        res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': String(reply.declaredLength) });
        res.write(reply.body, () => res.socket?.end());
        return;
      case 'reset':
        res.socket?.destroy();
        return;
    }
  }

  #notify(): void {
    for (let index = this.#waiters.length - 1; index >= 0; index--) {
      const waiter = this.#waiters[index];
      if (waiter !== undefined && this.requests.length >= waiter.count) {
        this.#waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }
}
