/**
 * `RecordingProxy`: a pass-through HTTP proxy between one worker process and one control-plane
 * replica, which records every exchange. It is an observer, not a fake: it changes nothing, and
 * answers every request with exactly what the replica answered. When the replica cannot be
 * reached or dies mid-request, it drops the worker's connection, as the dead replica would have.
 *
 * It is the tests' witness of what the control plane did: which items a poll delivered to this
 * worker, which acks, heartbeats and stops it answered and how, with the server's own timestamps
 * in the bodies. Each request goes upstream on a fresh connection, so a failure tells apart a
 * request that never reached the replica (`unreached`: the connection was refused) from one it
 * may have served without answering (`cut`).
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The worker calls the proxy tells apart by path. */
export type Operation = 'poll' | 'ack' | 'heartbeat' | 'stop' | 'other';

/**
 * How an exchange ended: the replica `answered`; it was `unreached` (connection refused: not
 * served); the connection to it broke after the request was sent (`cut`: served or not); or the
 * worker hung up first (`abandoned`: served or not).
 */
export type ExchangeEnd = 'answered' | 'unreached' | 'cut' | 'abandoned';

/** One request of the worker and what became of it. Times are `Date.now()` milliseconds. */
export interface Exchange {
  /** The label of the worker behind the proxy. */
  readonly worker: string;
  readonly op: Operation;
  readonly workId: string | null;
  /** A stop's `force` (false when the body omits it); `null` for other calls. */
  readonly force: boolean | null;
  /** When the request was sent on to the replica. */
  readonly sentAt: number;
  /** When the answer (or the failure) came back from the replica. */
  readonly endedAt: number;
  readonly end: ExchangeEnd;
  /** The answer's status; `null` unless `answered`. */
  readonly status: number | null;
  /** The answer's body parsed as JSON; `null` unless `answered` with a JSON body. */
  readonly body: unknown;
}

/** Headers that belong to one connection, not to the message. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export class RecordingProxy {
  readonly worker: string;
  readonly exchanges: Exchange[] = [];
  readonly #target: URL;
  readonly #server = createServer((req, res) => this.#onRequest(req, res));

  /** Proxies to the replica at `target` for the worker labelled `worker`. */
  constructor(worker: string, target: string) {
    this.worker = worker;
    this.#target = new URL(target);
    // Longer than the worker's keep-alive, so the proxy never closes a connection the worker is about to reuse.
    this.#server.keepAliveTimeout = 60_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.#forward(req, res, Buffer.concat(chunks)));
  }

  #forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const { op, workId } = operationOf(req.method ?? 'GET', req.url ?? '');
    const force = op === 'stop' ? (parseJson(body) as { force?: unknown } | null)?.force === true : null;
    const sentAt = Date.now();
    let settled = false;
    const record = (end: ExchangeEnd, status: number | null, answer: unknown): void => {
      if (settled) return;
      settled = true;
      const exchange: Exchange = { worker: this.worker, op, workId, force, sentAt, endedAt: Date.now(), end, status, body: answer };
      this.exchanges.push(exchange);
    };

    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    headers['content-length'] = String(body.length);
    let connected = false;
    const upstream = request(
      { host: this.#target.hostname, port: this.#target.port, method: req.method, path: req.url, headers, agent: false },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        // The replica died while sending the answer: as good as no answer.
        answer.on('error', () => undefined);
        answer.on('close', () => {
          if (answer.complete) return;
          record('cut', null, null);
          res.destroy();
        });
        answer.on('end', () => {
          const payload = Buffer.concat(parts);
          record('answered', answer.statusCode ?? 0, parseJson(payload));
          if (res.destroyed) return;
          const kept: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
          res.writeHead(answer.statusCode ?? 502, { ...kept, 'content-length': String(payload.length) });
          res.end(payload);
        });
      },
    );
    upstream.on('socket', (socket) => socket.once('connect', () => (connected = true)));
    upstream.on('error', () => {
      record(connected ? 'cut' : 'unreached', null, null);
      // The worker meets a dropped connection, as it would calling the dead replica directly.
      res.destroy();
    });
    // The worker gave up (a timeout, an abort): the replica is told by the upstream connection closing.
    res.on('close', () => {
      if (res.writableFinished) return;
      record('abandoned', null, null);
      upstream.destroy();
    });
    upstream.end(body);
  }
}

/** Names a worker call by its path: `/v1/environments/{env}/work/poll`, `…/work/{id}/ack`, … */
function operationOf(method: string, url: string): { op: Operation; workId: string | null } {
  const path = url.split('?', 1)[0] ?? '';
  const segments = path.split('/').filter((segment) => segment !== '');
  const tail = segments.slice(segments.indexOf('work') + 1);
  if (method === 'GET' && tail.length === 1 && tail[0] === 'poll') return { op: 'poll', workId: null };
  const action = tail[1];
  if (method === 'POST' && tail.length === 2 && (action === 'ack' || action === 'heartbeat' || action === 'stop')) {
    return { op: action, workId: decodeURIComponent(tail[0] ?? '') };
  }
  return { op: 'other', workId: null };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
