/**
 * A small client of the Docker Engine API over undici: JSON calls with checked answers, the
 * attach connection (an HTTP upgrade that hands over the raw socket), and errors that say which
 * daemon, which call and what it answered. Every versioned call goes to API 1.41 (Docker 20.10), so
 * a newer daemon answers with the semantics this runtime was written against.
 */
import type { Duplex, Readable } from 'node:stream';
import { Pool } from 'undici';
import type { z } from 'zod';
import type { DockerEndpoint } from './docker-host.js';

/** The API version every versioned call names. */
export const DOCKER_API_VERSION = '1.41';

/** Default deadline of a call's answer; the calls that wait on purpose (wait, pull) have none. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** Longest daemon message kept in an error. */
const MAX_MESSAGE_CHARS = 500;

/** The daemon answered a call with an error status. */
export class DockerApiError extends Error {
  /** The HTTP status (404 no such container or image, 409 conflict, …). */
  readonly status: number;
  /** The daemon's own message. */
  readonly daemonMessage: string;

  constructor(call: string, status: number, daemonMessage: string) {
    super(`docker: ${call} answered ${status}: ${daemonMessage}`);
    this.name = 'DockerApiError';
    this.status = status;
    this.daemonMessage = daemonMessage;
  }
}

/** The daemon could not be reached, or the connection failed before a whole answer came. */
export class DockerConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DockerConnectionError';
  }
}

/** Options of one call. */
export interface CallOptions<T> {
  /** Query parameters; `undefined` ones are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A JSON body. */
  readonly body?: unknown;
  /** The shape of the answer; without one the answer is read and dropped. */
  readonly schema?: z.ZodType<T>;
  /** Deadline of the answer in ms; `null` for none. Default 30 s. */
  readonly timeoutMs?: number | null;
  /** Call the unversioned path (`/_ping`, `/version`). */
  readonly unversioned?: boolean;
}

/** A Docker Engine API client on one endpoint; `close()` it when done. */
export class DockerClient {
  readonly endpoint: DockerEndpoint;
  readonly #pool: Pool;

  constructor(endpoint: DockerEndpoint) {
    this.endpoint = endpoint;
    // A pool without a connection limit: each running container holds one long wait call.
    this.#pool = endpoint.kind === 'unix' ? new Pool('http://docker', { socketPath: endpoint.socketPath }) : new Pool(endpoint.origin);
  }

  /** Makes a call; resolves with the checked answer (`undefined` without a schema). */
  async call<T = undefined>(method: string, path: string, options: CallOptions<T> = {}): Promise<T> {
    const body = await this.#send(method, path, options);
    if (options.schema === undefined) {
      await this.#read(body, method, path);
      return undefined as T;
    }
    return this.answer(body, options.schema, method, path);
  }

  /**
   * Makes a call and resolves as soon as its status and headers are in, with the body still to
   * come: a pull's progress, or a wait, which the daemon acknowledges with its headers once the
   * wait is registered and answers in the body when the container exits.
   */
  async stream(method: string, path: string, options: Omit<CallOptions<never>, 'schema'> = {}): Promise<Readable & { text(): Promise<string> }> {
    return this.#send(method, path, options);
  }

  /** Reads a body that {@link stream} gave to its end and checks it as JSON of `schema`. */
  async answer<T>(body: { text(): Promise<string> }, schema: z.ZodType<T>, method: string, path: string): Promise<T> {
    const text = await this.#read(body, method, path);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`docker: the answer of ${method} ${path} is not JSON`);
    }
    return checked(schema, value, `${method} ${path}`);
  }

  /**
   * Attaches to a container's stdin, stdout and stderr: an HTTP upgrade after which the socket is
   * the raw, multiplexed stream (stdin goes in as is; ending the socket's writable side closes the
   * container's stdin when it was created with `StdinOnce`).
   */
  async attach(containerId: string): Promise<Duplex> {
    const path = this.#path(`/containers/${encodeURIComponent(containerId)}/attach`, { stream: 1, stdin: 1, stdout: 1, stderr: 1 }, false);
    try {
      const { socket } = await this.#pool.upgrade({ path, method: 'POST', protocol: 'tcp' });
      return socket;
    } catch (error) {
      throw this.#connectionError(`POST /containers/${containerId}/attach`, error);
    }
  }

  /** Closes the connections; calls in flight are cut. */
  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  async #send(method: string, path: string, options: CallOptions<unknown>): Promise<Readable & { text(): Promise<string> }> {
    const timeout = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : (options.timeoutMs ?? 0);
    let answer;
    try {
      answer = await this.#pool.request({
        method: method as 'GET',
        path: this.#path(path, options.query ?? {}, options.unversioned === true),
        headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (error) {
      throw this.#connectionError(`${method} ${path}`, error);
    }
    if (answer.statusCode >= 200 && answer.statusCode < 300) return answer.body;
    const text = await this.#read(answer.body, method, path);
    throw new DockerApiError(`${method} ${path}`, answer.statusCode, daemonMessage(text));
  }

  async #read(body: { text(): Promise<string> }, method: string, path: string): Promise<string> {
    try {
      return await body.text();
    } catch (error) {
      throw this.#connectionError(`${method} ${path}`, error);
    }
  }

  #path(path: string, query: Readonly<Record<string, string | number | boolean | undefined>>, unversioned: boolean): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    const search = params.size === 0 ? '' : `?${params.toString()}`;
    return `${unversioned ? '' : `/v${DOCKER_API_VERSION}`}${path}${search}`;
  }

  #connectionError(call: string, error: unknown): DockerConnectionError {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unknown';
    const detail = error instanceof Error ? error.message : String(error);
    const message = `docker: ${call} failed: the daemon at ${this.endpoint.display} could not be reached or broke off (${code}: ${detail})`;
    return new DockerConnectionError(message, { cause: error });
  }
}

/** Checks `value` against `schema`; throws naming the call and the first wrong field. */
function checked<T>(schema: z.ZodType<T>, value: unknown, call: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? 'the answer' : issue.path.join('.');
  throw new Error(`docker: the answer of ${call} is not as expected: ${field}: ${issue?.message ?? 'invalid'}`);
}

/** The daemon's message from an error body (`{"message": …}`), or the body itself, shortened. */
function daemonMessage(text: string): string {
  let message = text.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON: the body is the message.
  }
  if (message === '') return '(no message)';
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
}
