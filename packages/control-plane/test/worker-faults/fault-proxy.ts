/**
 * `FaultProxy`: a FAKE network link between one worker and the real control plane.
 *
 * It is a fake because neither the control plane nor the loopback network can, on demand, lose a
 * request, lose or delay an answer the server already sent, reset a connection, or answer 500, 503,
 * 529 or 429. Everything else is real: the worker speaks HTTP to this proxy on 127.0.0.1, the proxy
 * speaks HTTP to the control plane, and every answer goes back as the server sent it unless a fault
 * rule says otherwise. Faulted exchanges stay open until the worker's own (virtual) timeout gives
 * up on them, exactly as a worker meets a silent network.
 *
 * The proxy also is the test's witness of what reached the server: every answer the control plane
 * gave to this worker is reported (`answered`), including the answers the worker never got.
 *
 * Freezing (`freeze`/`thaw`) holds every answer on its way to the worker, as the kernel buffers the
 * bytes of a suspended process; the worker reads them when it resumes.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, TimerHandle } from '@envworker/core';

/** What a rule does to a matching request. */
export const FAULT_KINDS = [
  /** Never forwarded, never answered: the worker times out. */
  'lost_request',
  /** The connection is reset before the request is forwarded. */
  'reset_request',
  /** Forwarded and served; the answer is never delivered: the worker times out. */
  'lost_response',
  /** Forwarded and served; then the connection is reset instead of answering. */
  'reset_response',
  /** Forwarded and served; the answer is held `delayMs` of virtual time. */
  'delayed_response',
  /** Answered by the proxy itself without forwarding. */
  'status_500',
  'status_503',
  'status_529',
  /** Answered 429 with `retry-after: ceil(delayMs / 1000)` seconds. */
  'status_429',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The calls a worker makes, as the proxy tells them apart by path. */
export type Operation = 'poll' | 'ack' | 'heartbeat' | 'stop' | 'get' | 'other';
export const FAULT_TARGETS = ['any', 'poll', 'ack', 'heartbeat', 'stop'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

/** Applies `kind` to the next `count` requests of the worker that match `target`. */
export interface FaultRule {
  readonly target: FaultTarget;
  readonly kind: FaultKind;
  readonly count: number;
  /** `delayed_response`: the delay; `status_429`: the retry-after, rounded up to seconds. */
  readonly delayMs: number;
}

/** One request as the proxy saw it. */
export interface Exchange {
  readonly seq: number;
  readonly op: Operation;
  readonly method: string;
  readonly workId: string | null;
  /** A stop's `force` (false when the body omits it); `null` for other calls. */
  readonly force: boolean | null;
}

/** What the proxy reports, in the order it happens. */
export type ProxyEvent =
  | { readonly type: 'fault'; readonly exchange: Exchange; readonly kind: FaultKind }
  /** The control plane answered (it served the request), whether or not the worker gets the answer. */
  | { readonly type: 'answered'; readonly exchange: Exchange; readonly status: number; readonly body: unknown }
  /** The worker hung up before it got an answer. */
  | { readonly type: 'abandoned'; readonly exchange: Exchange };

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

type Phase = 'reading' | 'upstream' | 'held' | 'writing';

interface OpenExchange {
  exchange: Exchange;
  readonly res: ServerResponse;
  readonly req: IncomingMessage;
  phase: Phase;
  closed: boolean;
  /** Reset on purpose: its end is a fault, not the worker leaving. */
  reset: boolean;
  upstream?: ReturnType<typeof request>;
  timer?: TimerHandle;
}

interface LiveRule {
  readonly rule: FaultRule;
  left: number;
}

/** Headers that belong to one connection, not to the answer. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

const STATUS_FAULTS: Partial<Record<FaultKind, { status: number; type: string }>> = {
  status_500: { status: 500, type: 'api_error' },
  status_503: { status: 503, type: 'api_error' },
  status_529: { status: 529, type: 'overloaded_error' },
  status_429: { status: 429, type: 'rate_limit_error' },
};

/** A fault-injecting HTTP proxy in front of the control plane, for one worker. */
export class FaultProxy {
  readonly #target: URL;
  readonly #clock: Clock;
  readonly #report: (event: ProxyEvent) => void;
  readonly #server = createServer((req, res) => this.#onRequest(req, res));
  readonly #agent = new Agent({ keepAlive: true });
  readonly #open = new Set<OpenExchange>();
  #rules: LiveRule[] = [];
  #frozen = false;
  #thawQueue: Array<() => void> = [];
  #seq = 0;

  /**
   * @param target base URL of the control plane
   * @param clock the network's clock (not the worker's: a delayed answer is delayed whatever the worker does)
   * @param report called synchronously with every fault, server answer and abandoned exchange
   */
  constructor(target: string, clock: Clock, report: (event: ProxyEvent) => void) {
    this.#target = new URL(target);
    this.#clock = clock;
    this.#report = report;
    // Longer than undici's keep-alive, so the proxy never closes a connection the worker is about to reuse.
    this.#server.keepAliveTimeout = 60_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  inject(rule: FaultRule): void {
    this.#rules.push({ rule, left: rule.count });
  }

  clearRules(): void {
    this.#rules = [];
  }

  freeze(): void {
    this.#frozen = true;
  }

  /** Delivers the answers held while frozen, in the order they came. */
  thaw(): void {
    this.#frozen = false;
    const queue = this.#thawQueue;
    this.#thawQueue = [];
    for (const deliver of queue) deliver();
  }

  /** Exchanges not yet answered or abandoned; of them, those held on purpose and the polls waiting at the server. */
  stats(): { open: number; held: number; upstreamPolls: number } {
    let held = 0;
    let upstreamPolls = 0;
    for (const open of this.#open) {
      if (open.phase === 'held') held += 1;
      if (open.phase === 'upstream' && open.exchange.op === 'poll') upstreamPolls += 1;
    }
    return { open: this.#open.size, held, upstreamPolls };
  }

  /** The open exchanges, for a diagnostic. */
  describeOpen(): string {
    return [...this.#open].map((open) => `#${open.exchange.seq} ${open.exchange.op} ${open.phase}${open.reset ? ' reset' : ''}`).join(', ');
  }

  async close(): Promise<void> {
    for (const open of this.#open) this.#drop(open);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#agent.destroy();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    const open: OpenExchange = { exchange: exchangeOf(++this.#seq, req, null), req, res, phase: 'reading', closed: false, reset: false };
    this.#open.add(open);
    res.on('finish', () => this.#end(open, false));
    res.on('close', () => this.#end(open, !res.writableFinished));
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (open.closed) return;
      const body = Buffer.concat(chunks);
      open.exchange = exchangeOf(open.exchange.seq, req, body);
      this.#serve(open, body);
    });
  }

  #serve(open: OpenExchange, body: Buffer): void {
    const fault = this.#takeFault(open.exchange.op);
    if (fault !== null) this.#report({ type: 'fault', exchange: open.exchange, kind: fault.kind });
    switch (fault?.kind) {
      case 'lost_request':
        open.phase = 'held';
        return;
      case 'reset_request':
        this.#reset(open);
        return;
      case 'status_500':
      case 'status_503':
      case 'status_529':
      case 'status_429':
        this.#deliver(open, synthesized(fault.kind, fault.delayMs, open.exchange.seq));
        return;
      default:
        this.#forward(open, body).then(
          (answer) => {
            this.#report({ type: 'answered', exchange: open.exchange, status: answer.status, body: parseJson(answer.body) });
            if (open.closed) return;
            switch (fault?.kind) {
              case 'lost_response':
                open.phase = 'held';
                return;
              case 'reset_response':
                this.#reset(open);
                return;
              case 'delayed_response':
                open.phase = 'held';
                open.timer = this.#clock.setTimeout(() => this.#deliver(open, answer), fault.delayMs);
                return;
              default:
                this.#deliver(open, answer);
            }
          },
          () => {
            // The worker left (the upstream call was aborted for it) or the control plane is gone.
            if (!open.closed) this.#reset(open);
          },
        );
    }
  }

  #takeFault(op: Operation): FaultRule | null {
    const live = this.#rules.find((candidate) => candidate.left > 0 && (candidate.rule.target === 'any' || candidate.rule.target === op));
    if (live === undefined) return null;
    live.left -= 1;
    this.#rules = this.#rules.filter((candidate) => candidate.left > 0);
    return live.rule;
  }

  #forward(open: OpenExchange, body: Buffer): Promise<Answer> {
    open.phase = 'upstream';
    return new Promise<Answer>((resolve, reject) => {
      const headers: IncomingHttpHeaders = { ...open.req.headers, host: this.#target.host };
      delete headers.connection;
      delete headers['keep-alive'];
      const upstream = request(
        { host: this.#target.hostname, port: this.#target.port, method: open.req.method, path: open.req.url, headers, agent: this.#agent },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 0, headers: answerHeaders(answer.headers), body: Buffer.concat(chunks) }));
          answer.on('error', reject);
        },
      );
      open.upstream = upstream;
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  #deliver(open: OpenExchange, answer: Answer): void {
    if (open.closed) return;
    if (this.#frozen) {
      open.phase = 'held';
      this.#thawQueue.push(() => this.#deliver(open, answer));
      return;
    }
    open.phase = 'writing';
    open.res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
    open.res.end(answer.body);
  }

  #reset(open: OpenExchange): void {
    open.reset = true;
    // Over now: a socket the worker is already closing may never report its end after a reset.
    this.#end(open, true);
    open.req.socket.resetAndDestroy();
  }

  /** The exchange is over: answered, reset, or left by the worker (`cut`). */
  #end(open: OpenExchange, cut: boolean): void {
    if (open.closed) return;
    open.closed = true;
    this.#open.delete(open);
    if (!cut) return;
    this.#drop(open);
    if (!open.reset) this.#report({ type: 'abandoned', exchange: open.exchange });
  }

  /** Forgets an exchange the worker left: no upstream call or delayed answer outlives it. */
  #drop(open: OpenExchange): void {
    open.upstream?.destroy();
    if (open.timer !== undefined) this.#clock.clearTimeout(open.timer);
  }
}

/** Names the call by its path: `/v1/environments/{env}/work/poll`, `…/work/{id}/ack`, … */
function exchangeOf(seq: number, req: IncomingMessage, body: Buffer | null): Exchange {
  const path = (req.url ?? '').split('?', 1)[0] ?? '';
  const segments = path.split('/').filter((segment) => segment !== '');
  const tail = segments.slice(segments.indexOf('work') + 1);
  const method = req.method ?? 'GET';
  let op: Operation = 'other';
  let workId: string | null = null;
  if (tail.length === 1 && tail[0] === 'poll') op = 'poll';
  else if (tail.length === 2 && (tail[1] === 'ack' || tail[1] === 'heartbeat' || tail[1] === 'stop')) op = tail[1];
  else if (tail.length === 1 && method === 'GET') op = 'get';
  if (op !== 'poll' && op !== 'other') workId = decodeURIComponent(tail[0] ?? '');
  let force: boolean | null = null;
  if (op === 'stop') force = body !== null && body.length > 0 && (parseJson(body) as { force?: unknown } | null)?.force === true;
  return { seq, op, method, workId, force };
}

function answerHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

/** The error answer a server would give, in the contract's envelope. */
function synthesized(kind: FaultKind, delayMs: number, seq: number): Answer {
  const shape = STATUS_FAULTS[kind] ?? { status: 500, type: 'api_error' };
  const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': `req_faultproxy${String(seq).padStart(10, '0')}` };
  if (kind === 'status_429') headers['retry-after'] = String(Math.max(1, Math.ceil(delayMs / 1000)));
  const body = { type: 'error', error: { type: shape.type, message: 'injected by the fault proxy' } };
  return { status: shape.status, headers, body: Buffer.from(JSON.stringify(body)) };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
