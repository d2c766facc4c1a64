/**
 * The in-process runtime: a work item is an async function. It keeps the sandbox contract (a
 * fresh work directory, the polite signal, a grace period, exactly one exit) for hosts that run
 * trusted code in the worker's own process, and it is the reference adapter of the conformance
 * suite. It isolates nothing: a function that ignores its signal can only be abandoned, not stopped.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Work } from '../api/wire.js';
import { decodeWorkSecret } from '../api/secret.js';
import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';
import { createLogger, LOG_LEVELS, workLogger, type LogLevel } from '../observe/logger.js';
import { redactSecrets } from '../observe/redact-secrets.js';
import type { OnWorkEnvironment, Sandbox, SandboxExit, SandboxRuntime, SandboxSpec } from './sandbox-runtime.js';
import { createWorkdir, errorCode, removeWorkdir } from './workdir.js';

/** What a work function is given besides its work item. */
export interface WorkContext {
  /** Fires on `stop()`, `kill()` or the run-time limit: the polite signal. Return soon after it. */
  readonly signal: AbortSignal;
  /** The `--on-work` environment (this is all of it: nothing from the host is added). */
  readonly env: OnWorkEnvironment;
  /** The item's fresh work directory. */
  readonly workdir: string;
  /** The work item JSON, as a process sandbox would read it from standard input. */
  readonly stdin: string;
  /** A logger with `worker_id`, `work_id` and `session_id` bound; its lines go to the sandbox's log sink. */
  readonly logger: Logger;
  /** Writes raw output to the log sink, as a process sandbox writes to stdout or stderr; split into lines. */
  write(text: string, stream?: 'stdout' | 'stderr'): void;
}

/**
 * A work item as a function. Resolving ends the sandbox with code 0, or with the number it
 * resolves with (an integer 0–255); throwing ends it with code 1.
 */
export type WorkFunction = (work: Work, ctx: WorkContext) => Promise<number | void> | number | void;

/** Options of {@link functionRuntime}. */
export interface FunctionRuntimeOptions {
  /** The runtime's name; default `function`. */
  readonly name?: string;
  /** Keep the work directory after the exit (for debugging); default false. */
  readonly keepWorkdir?: boolean;
  /** Longest run: then the polite signal, and after `limitGraceMs` the function is abandoned. Exit reason `limit`. */
  readonly maxRunMs?: number;
  /** Grace after `maxRunMs`; default 5000. */
  readonly limitGraceMs?: number;
  /** Level of `ctx.logger`; default `info`. */
  readonly logLevel?: LogLevel;
  /** Time source for the grace and limit timers; default the system clock. */
  readonly clock?: Clock;
}

const DEFAULT_LIMIT_GRACE_MS = 5000;
/** Longest output line passed to the sink; a longer one is cut (a sink must not be flooded by one line). */
const MAX_LINE_CHARS = 64 * 1024;
/** Longest error message kept as an exit's `detail`. */
const MAX_DETAIL_CHARS = 2000;

interface RuntimeSettings {
  readonly keepWorkdir: boolean;
  readonly maxRunMs: number | null;
  readonly limitGraceMs: number;
  readonly logLevel: LogLevel;
  readonly clock: Clock;
}

/**
 * An in-process runtime: each work item runs as `fn(work, ctx)`.
 *
 * Exit: `fn` resolves → code 0 (or its number), reason `exited`, or `stopped` after `stop()` asked;
 * `fn` throws → code 1 with the error's message (known secrets scrubbed) as `detail`; `fn` still
 * running when the grace runs out, or on `kill()` → reason `killed`, code `null`, signal `SIGKILL`,
 * and whatever it does later is ignored.
 *
 * @example
 * ```ts
 * const runtime = functionRuntime(async (work, ctx) => {
 *   ctx.logger.info({ workdir: ctx.workdir }, 'serving session');
 *   await serveSession(ctx.env, { signal: ctx.signal });
 * }, { maxRunMs: 60 * 60_000 });
 * const sandbox = await runtime.start(spec, AbortSignal.timeout(10_000));
 * const exit = await sandbox.exit;
 * ```
 */
export function functionRuntime(fn: WorkFunction, options: FunctionRuntimeOptions = {}): SandboxRuntime {
  if (typeof fn !== 'function') throw new TypeError('fn must be a function');
  const settings: RuntimeSettings = {
    keepWorkdir: options.keepWorkdir ?? false,
    maxRunMs: options.maxRunMs === undefined ? null : positiveMs('maxRunMs', options.maxRunMs),
    limitGraceMs:
      options.limitGraceMs === undefined ? DEFAULT_LIMIT_GRACE_MS : nonNegativeMs('limitGraceMs', options.limitGraceMs),
    logLevel: logLevel(options.logLevel),
    clock: options.clock ?? systemClock,
  };
  return {
    name: options.name ?? 'function',
    async start(spec, signal) {
      signal.throwIfAborted();
      await createWorkdir(spec.workdir);
      if (signal.aborted) {
        await removeWorkdir(spec.workdir);
        signal.throwIfAborted();
      }
      return new FunctionSandbox(fn, spec, settings);
    },
  };
}

/** Why the function was asked to end, when it was: decides the reason of its exit. */
type EndRequest = 'stop' | 'limit';

class FunctionSandbox implements Sandbox {
  readonly id = `function-${randomUUID()}`;
  readonly exit: Promise<SandboxExit>;
  #resolveExit: (exit: SandboxExit) => void = () => undefined;
  /** Set the moment the exit is decided, before the work directory is removed. */
  #ended = false;
  #endRequest: EndRequest | null = null;
  readonly #controller = new AbortController();
  readonly #timers: TimerHandle[] = [];
  readonly #startedAt: number;
  readonly #secrets: readonly string[];
  readonly #spec: SandboxSpec;
  readonly #settings: RuntimeSettings;

  constructor(fn: WorkFunction, spec: SandboxSpec, settings: RuntimeSettings) {
    this.#spec = spec;
    this.#settings = settings;
    this.exit = new Promise((resolve) => (this.#resolveExit = resolve));
    this.#startedAt = settings.clock.now();
    this.#secrets = secretsOf(spec);
    const ctx = this.#context();
    if (settings.maxRunMs !== null) this.#schedule(settings.maxRunMs, () => this.#limit());
    let outcome: Promise<number | void>;
    try {
      outcome = Promise.resolve(fn(spec.work, ctx));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (value) => this.#returned(value),
      (error: unknown) => this.#threw(error),
    );
  }

  stop(graceMs: number): Promise<SandboxExit> {
    if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
      return Promise.reject(new RangeError(`graceMs must be a finite number >= 0, got ${String(graceMs)}`));
    }
    if (!this.#ended) {
      this.#endRequest ??= 'stop';
      this.#controller.abort(new Error('the sandbox is being stopped'));
      this.#schedule(graceMs, () => this.#abandon());
    }
    return this.exit;
  }

  kill(): Promise<SandboxExit> {
    if (!this.#ended) {
      this.#controller.abort(new Error('the sandbox is being killed'));
      this.#end({ code: null, signal: 'SIGKILL', reason: 'killed' });
    }
    return this.exit;
  }

  #limit(): void {
    if (this.#ended || this.#endRequest !== null) return;
    this.#endRequest = 'limit';
    this.#controller.abort(new Error('the sandbox ran out of time'));
    this.#schedule(this.#settings.limitGraceMs, () => this.#abandon());
  }

  /** The grace ran out with the function still running: end without it. */
  #abandon(): void {
    if (this.#endRequest === 'limit') {
      this.#end({ code: null, signal: 'SIGKILL', reason: 'limit', detail: this.#limitDetail() });
    } else {
      this.#end({ code: null, signal: 'SIGKILL', reason: 'killed' });
    }
  }

  #returned(value: number | void): void {
    if (typeof value === 'number' && !(Number.isInteger(value) && value >= 0 && value <= 255)) {
      this.#settled(1, 'the function resolved with an invalid exit code (an integer 0-255 is expected)');
    } else {
      this.#settled(value ?? 0, null);
    }
  }

  #threw(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#settled(1, redactSecrets(message, this.#secrets).slice(0, MAX_DETAIL_CHARS));
  }

  #settled(code: number, fault: string | null): void {
    if (this.#ended) return;
    if (this.#endRequest === 'limit') {
      const detail = fault === null ? this.#limitDetail() : `${this.#limitDetail()}; ${fault}`;
      this.#end({ code, signal: null, reason: 'limit', detail });
      return;
    }
    const reason = this.#endRequest === 'stop' ? 'stopped' : 'exited';
    this.#end(fault === null ? { code, signal: null, reason } : { code, signal: null, reason, detail: fault });
  }

  #limitDetail(): string {
    return `ran longer than maxRunMs (${String(this.#settings.maxRunMs)} ms)`;
  }

  #end(exit: Omit<SandboxExit, 'durationMs'>): void {
    this.#ended = true;
    for (const timer of this.#timers) this.#settings.clock.clearTimeout(timer);
    const durationMs = Math.max(0, this.#settings.clock.now() - this.#startedAt);
    void this.#cleanUp().then((fault) => {
      const detail = [exit.detail, fault].filter((part) => part !== undefined).join('; ');
      this.#resolveExit(detail === '' ? { ...exit, durationMs } : { ...exit, durationMs, detail });
    });
  }

  /** Removes the work directory; resolves with what went wrong, if anything (the exit never rejects). */
  async #cleanUp(): Promise<string | undefined> {
    if (this.#settings.keepWorkdir) return undefined;
    try {
      await removeWorkdir(this.#spec.workdir);
      return undefined;
    } catch (error) {
      return `workdir could not be removed (${errorCode(error)})`;
    }
  }

  #schedule(ms: number, fn: () => void): void {
    this.#timers.push(this.#settings.clock.setTimeout(fn, ms));
  }

  #context(): WorkContext {
    const write = (text: string, stream: 'stdout' | 'stderr' = 'stdout'): void => {
      // A function abandoned after its exit may still run; its output must not reach a sink that was handed back.
      if (this.#ended) return;
      const lines = text.split(/\r?\n/);
      if (lines.at(-1) === '') lines.pop();
      for (const line of lines) this.#spec.log.line(stream, boundLine(line));
    };
    // Built on first use: a pino logger with redaction costs more to make than a no-op item
    // costs to run, and most work functions log through their own means or not at all.
    let logger: Logger | undefined;
    const makeLogger = (): Logger => {
      const root = createLogger({
        level: this.#settings.logLevel,
        base: {},
        knownSecrets: this.#secrets,
        destination: { write: (line: string) => write(line) },
      });
      return workLogger(root, this.#spec.work, this.#spec.workerId);
    };
    return {
      signal: this.#controller.signal,
      env: this.#spec.env,
      workdir: this.#spec.workdir,
      stdin: this.#spec.stdin,
      get logger() {
        logger ??= makeLogger();
        return logger;
      },
      write,
    };
  }
}

/** The credentials a sandbox holds, to scrub from its logger's lines and from error details. */
function secretsOf(spec: SandboxSpec): string[] {
  const secrets = [spec.env.ANTHROPIC_ENVIRONMENT_KEY];
  if (spec.work.secret !== null) {
    secrets.push(spec.work.secret);
    const decoded = decodeWorkSecret(spec.work.secret);
    if (decoded.secret !== null) secrets.push(decoded.secret.sessions_token);
  }
  return secrets;
}

function boundLine(line: string): string {
  return line.length <= MAX_LINE_CHARS ? line : `${line.slice(0, MAX_LINE_CHARS)}…[truncated]`;
}

function logLevel(value: LogLevel | undefined): LogLevel {
  if (value === undefined) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new TypeError(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveMs(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${field} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

function nonNegativeMs(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${field} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}
