/**
 * Sandbox specs for adapter tests, built the way the worker builds them (`buildSandboxSpec`), with
 * a log sink that records every line and lets a test wait for one.
 */
import { randomBytes } from 'node:crypto';
import { encodeWorkSecret } from '../api/secret.js';
import { formatTimestamp, millisToMicros } from '../api/timestamp.js';
import { ID_BODY_LENGTH, ID_PREFIXES, WorkSchema, type Work, type WorkSecret } from '../api/wire.js';
import { buildSandboxSpec } from '../runtime/sandbox-spec.js';
import type { SandboxLogSink, SandboxSpec } from '../runtime/sandbox-runtime.js';

/** One line a sandbox wrote. */
export interface LoggedLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** A log sink that keeps every line, and can wait for one. */
export interface RecordingLogSink extends SandboxLogSink {
  /** Every line so far, in order. */
  readonly lines: readonly LoggedLine[];
  /**
   * Resolves with the first line (already written or still to come) that matches; rejects after
   * `timeoutMs` naming `what` (never echoing the lines, which may hold test credentials).
   */
  waitFor(predicate: (line: LoggedLine) => boolean, timeoutMs: number, what: string): Promise<LoggedLine>;
}

/** Creates a {@link RecordingLogSink}. */
export function recordingLogSink(): RecordingLogSink {
  const lines: LoggedLine[] = [];
  const waiters = new Set<(line: LoggedLine) => void>();
  return {
    lines,
    line(stream, text) {
      const line = { stream, text };
      lines.push(line);
      for (const waiter of [...waiters]) waiter(line);
    },
    waitFor(predicate, timeoutMs, what) {
      const seen = lines.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no ${what} line within ${timeoutMs} ms (${lines.length} lines seen)`));
        }, timeoutMs);
        const waiter = (line: LoggedLine): void => {
          if (!predicate(line)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(line);
        };
        waiters.add(waiter);
      });
    },
  };
}

/** Options of {@link makeSpec}. */
export interface MakeSpecOptions {
  /** The item's work directory (absolute; the adapter creates it). */
  readonly workdir: string;
  /** Fields of the work item to override; the rest are valid defaults with fresh ids. */
  readonly work?: Partial<Work>;
  /** The conformance behaviour, put into `metadata.conformance`. */
  readonly conformance?: string;
  /** A secret payload for the item, encoded as a poll delivers it; without one the item's `secret` is `null`. */
  readonly secret?: WorkSecret;
  /** The worker id; default a fresh one. */
  readonly workerId?: string;
  /** The environment key; default a fresh random one. */
  readonly environmentKey?: string;
  /** The Work API base URL the sandbox is told; default an unused local address. */
  readonly baseUrl?: string;
}

/** A spec from {@link makeSpec}: its log is a recording sink. */
export type TestSandboxSpec = SandboxSpec & { readonly log: RecordingLogSink };

/**
 * Builds a sandbox spec for a test: a valid polled work item (ids in the contract's format), the
 * `--on-work` environment and standard input exactly as the worker builds them, and a recording
 * log sink.
 *
 * @example
 * ```ts
 * const spec = makeSpec({ workdir: join(root, 'item-1'), conformance: 'echo', secret: { sessions_token: 'sk-test-…' } });
 * const sandbox = await runtime.start(spec, new AbortController().signal);
 * ```
 */
export function makeSpec(options: MakeSpecOptions): TestSandboxSpec {
  const now = formatTimestamp(millisToMicros(Date.now()));
  const defaults: Work = {
    type: 'work',
    id: randomId(ID_PREFIXES.work),
    environment_id: randomId(ID_PREFIXES.environment),
    data: { type: 'session', id: randomId(ID_PREFIXES.session) },
    state: 'starting',
    created_at: now,
    acknowledged_at: now,
    started_at: null,
    latest_heartbeat_at: null,
    stop_requested_at: null,
    stopped_at: null,
    metadata: {},
    secret: null,
  };
  const overrides = options.work ?? {};
  const metadata = { ...(overrides.metadata ?? {}), ...(options.conformance === undefined ? {} : { conformance: options.conformance }) };
  const secret = options.secret === undefined ? (overrides.secret ?? null) : encodeWorkSecret(options.secret);
  const work = WorkSchema.parse({ ...defaults, ...overrides, metadata, secret });
  const log = recordingLogSink();
  const spec = buildSandboxSpec({
    work,
    environmentId: work.environment_id,
    environmentKey: options.environmentKey ?? `envkey-test-${randomBase62(32)}`,
    baseUrl: options.baseUrl ?? 'http://127.0.0.1:9',
    workerId: options.workerId ?? `conformance-${randomBase62(12)}`,
    workdir: options.workdir,
    log,
  });
  return { ...spec, log };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomId(prefix: string): string {
  return `${prefix}${randomBase62(ID_BODY_LENGTH)}`;
}

function randomBase62(length: number): string {
  return [...randomBytes(length)].map((byte) => BASE62[byte % BASE62.length]).join('');
}
