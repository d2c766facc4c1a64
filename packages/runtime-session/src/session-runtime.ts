/**
 * `sessionRuntime`: the runtime that serves the agent session itself, in this process, for every
 * `session` work item the worker claims, as the official `EnvironmentWorker` does for one item at
 * a time. The worker keeps each lease (heartbeats, stop calls); this runtime only talks to the
 * session: its events, its tool calls, its results.
 */
import { Subject, type Observable } from 'rxjs';
import {
  createWorkdir,
  LOG_LEVELS,
  removeWorkdir,
  SessionsClient,
  systemClock,
  type Clock,
  type LogLevel,
  type Sandbox,
  type SandboxLogSink,
  type SandboxRuntime,
} from '@envworker/core';
import type { ToolCallRecord } from './runner/session-runner.js';
import { sandboxInput, SessionSandbox, type SessionSandboxSettings } from './session-sandbox.js';
import { AGENT_TOOL_NAMES } from './tools/agent-toolset.js';
import { helperShellSpawner } from './tools/helper-shell-spawner.js';
import { inProcessShellSpawner } from './tools/in-process-shell-spawner.js';
import type { SessionTool } from './tools/session-tool.js';
import type { ShellSpawner } from './tools/shell-spawner.js';

/** Options of {@link sessionRuntime}; every one is optional. */
export interface SessionRuntimeOptions {
  /**
   * The host's own tools, offered to every session beside the agent toolset (answered with
   * `user.custom_tool_result` when the agent calls them as custom tools). A name of the toolset
   * (`bash`, `read`, …) or given twice is refused.
   */
  readonly tools?: readonly SessionTool[];
  /** How long a session is served once idle with its turn over, in ms; default 60 000 (`--max-idle`). `0`: until it ends or is stopped. */
  readonly maxIdleMs?: number;
  /** Host variables the bash tool's shell gets; default `PATH`, `HOME`, `LANG`, `TZ`. Nothing else of the host reaches it. */
  readonly inheritEnv?: readonly string[];
  /** Size cap of `read` and `edit`, in bytes; default 256 KiB; `null`: none. */
  readonly maxFileBytes?: number | null;
  /** Niceness of the bash shell and what it starts (0–19), so busy commands yield the CPU to the worker; default 19. */
  readonly bashNice?: number;
  /**
   * How bash shells start: `helper` (default) asks one helper process per runtime to fork them,
   * so this process's event loop, which every session's heartbeats share, never stalls on a
   * fork; `in-process` forks this process for each.
   */
  readonly shells?: 'helper' | 'in-process';
  /** Download the agent's skills into `<workdir>/skills/`; default true. */
  readonly skills?: boolean;
  /** Keep each work directory after its session (for debugging); default false. */
  readonly keepWorkdir?: boolean;
  /** Level of the session's own log lines (they reach the worker as sandbox output); default `info`. */
  readonly logLevel?: LogLevel;
  /** A client to call the Sessions API with (say, with its own dispatcher); default: one per base URL, made on first use. */
  readonly client?: SessionsClient;
  /** The clock of idle countdowns, tool timeouts and backoffs; default the system clock. */
  readonly clock?: Clock;
  /** Jitter source in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

/** A session runtime: a `SandboxRuntime`, plus what it observes and what it holds. */
export interface SessionRuntime extends SandboxRuntime {
  /** Every tool call of every session, as it ends. Hot; completes on `close()`. */
  readonly toolCalls$: Observable<ToolCallRecord>;
  /** Closes the clients it made and ends its shell helper; call once the worker has shut down. */
  close(): Promise<void>;
}

const DEFAULT_MAX_IDLE_MS = 60_000;
const MAX_IDLE_LIMIT_MS = 24 * 60 * 60 * 1000;

/**
 * Creates the session runtime. Throws a `TypeError` or `RangeError` naming the first bad option.
 *
 * @example
 * ```ts
 * import { createWorker } from '@envworker/core';
 * import { sessionRuntime } from '@envworker/runtime-session';
 *
 * const runtime = sessionRuntime({ tools: [deployTool], maxIdleMs: 30_000 });
 * runtime.toolCalls$.subscribe((call) => console.log(call.sessionId, call.name, call.ending));
 * const worker = createWorker({ baseUrl, environmentId, environmentKey, runtime, maxConcurrency: 16 });
 * await worker.start();
 * ```
 */
export function sessionRuntime(options: SessionRuntimeOptions = {}): SessionRuntime {
  const settings = resolveSettings(options);
  const calls = new Subject<ToolCallRecord>();
  const given = options.client ?? null;
  const clients = new Map<string, SessionsClient>();
  const clientFor = (baseUrl: string): SessionsClient => {
    if (given !== null) return given;
    let client = clients.get(baseUrl);
    if (client === undefined) {
      client = new SessionsClient({ baseUrl, clock: settings.clock, random: settings.random });
      clients.set(baseUrl, client);
    }
    return client;
  };
  const shells = spawnerOf(options);
  const sandboxSettings: SessionSandboxSettings = { ...settings, toolset: { ...settings.toolset, shells }, onCall: (record) => calls.next(record) };
  return {
    name: 'session',
    toolCalls$: calls.asObservable(),
    async start(spec, signal) {
      signal.throwIfAborted();
      if (spec.work.data.type !== 'session') throw new TypeError(`the session runtime serves session items only, not ${spec.work.data.type}`);
      const client = clientFor(spec.env.ANTHROPIC_BASE_URL);
      await createWorkdir(spec.workdir);
      if (signal.aborted) {
        await removeWorkdir(spec.workdir);
        signal.throwIfAborted();
      }
      return new SessionSandbox(sandboxInput(spec), client, sandboxSettings);
    },
    async close() {
      calls.complete();
      await Promise.all([...clients.values()].map((client) => client.close()));
      clients.clear();
      await shells.close();
    },
  };
}

function spawnerOf(options: SessionRuntimeOptions): ShellSpawner {
  return options.shells === 'in-process' ? inProcessShellSpawner : helperShellSpawner();
}

function resolveSettings(options: SessionRuntimeOptions): Omit<SessionSandboxSettings, 'onCall'> {
  const fail = (message: string, kind: 'type' | 'range' = 'type'): never => {
    const text = `sessionRuntime: ${message}`;
    throw kind === 'range' ? new RangeError(text) : new TypeError(text);
  };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const tools = options.tools ?? [];
  if (!Array.isArray(tools)) fail('tools must be an array of SessionTool');
  const names = new Set<string>(AGENT_TOOL_NAMES);
  tools.forEach((tool: SessionTool, index) => {
    if (typeof tool !== 'object' || tool === null || typeof tool.name !== 'string' || typeof tool.run !== 'function' || typeof tool.parse !== 'function') {
      fail(`tools[${index}] must be a SessionTool (name, description, inputSchema, parse, run)`);
    }
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(tool.name)) fail(`tools[${index}].name must be 1–128 letters, digits, _ or -`);
    if (names.has(tool.name)) fail(`tools[${index}].name ${JSON.stringify(tool.name)} is taken (by the agent toolset or an earlier tool)`);
    if (tool.timeoutMs !== undefined && !(Number.isInteger(tool.timeoutMs) && tool.timeoutMs > 0)) fail(`tools[${index}].timeoutMs must be an integer > 0`, 'range');
    names.add(tool.name);
  });
  const maxIdleMs = options.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
  if (!Number.isInteger(maxIdleMs) || maxIdleMs < 0 || maxIdleMs > MAX_IDLE_LIMIT_MS) fail(`maxIdleMs must be an integer between 0 and ${MAX_IDLE_LIMIT_MS}`, 'range');
  const logLevel = options.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) fail(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function') fail('clock must be a Clock (now, setTimeout, clearTimeout)');
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') fail('random must be a function returning numbers in [0, 1)');
  if (options.client !== undefined && !(options.client instanceof SessionsClient)) fail('client must be a SessionsClient');
  if (options.inheritEnv !== undefined) {
    if (!Array.isArray(options.inheritEnv)) fail('inheritEnv must be an array of variable names');
    options.inheritEnv.forEach((name: unknown, index) => {
      const valid = typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
      if (!valid) fail(`inheritEnv[${index}] must be a variable name`);
      else if (name.startsWith('ANTHROPIC_')) fail(`inheritEnv[${index}] ${name}: ANTHROPIC_* variables never reach a session's shell`);
    });
  }
  if (options.maxFileBytes !== undefined && options.maxFileBytes !== null && !(Number.isSafeInteger(options.maxFileBytes) && options.maxFileBytes > 0)) {
    fail('maxFileBytes must be a whole number of bytes > 0, or null', 'range');
  }
  if (options.shells !== undefined && options.shells !== 'helper' && options.shells !== 'in-process') fail("shells must be 'helper' or 'in-process'");
  if (options.bashNice !== undefined && !(Number.isInteger(options.bashNice) && options.bashNice >= 0 && options.bashNice <= 19)) fail('bashNice must be a whole number from 0 to 19', 'range');
  return {
    customTools: tools,
    toolset: {
      ...(options.inheritEnv === undefined ? {} : { inheritEnv: options.inheritEnv }),
      ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }),
      ...(options.bashNice === undefined ? {} : { bashNice: options.bashNice }),
    },
    maxIdleMs,
    skills: options.skills ?? true,
    keepWorkdir: options.keepWorkdir ?? false,
    logLevel,
    clock,
    random,
  };
}

/** One item's session to serve outside a worker (the `ant beta:worker run` case): its lease is the caller's to hold. */
export interface ServeSessionInput {
  readonly workId: string;
  readonly sessionId: string;
  /** The directory to serve the session in; it exists and is kept afterwards. */
  readonly workdir: string;
  readonly baseUrl: string;
  /** The item's sessions token, else the environment key. */
  readonly credential: string;
  /** Every credential the caller holds, scrubbed from lines and results. */
  readonly secrets: readonly string[];
  /** Where the session's log lines go. */
  readonly log: SandboxLogSink;
  readonly onToolCall?: (record: ToolCallRecord) => void;
}

/**
 * Serves one session now, in `input.workdir`, as a `Sandbox` (`stop`, `kill`, `exit`); the caller
 * holds the item's lease. Options as {@link sessionRuntime}'s (`keepWorkdir` does not apply: the
 * directory is the caller's). Throws a `TypeError` or `RangeError` naming the first bad option.
 *
 * @example
 * ```ts
 * const sandbox = serveSession({ workId, sessionId, workdir: process.cwd(), baseUrl, credential, secrets: [credential], log });
 * const exit = await sandbox.exit; // after the session's turn ended and it stayed idle for maxIdleMs
 * ```
 */
export function serveSession(input: ServeSessionInput, options: SessionRuntimeOptions = {}): Sandbox & { close(): Promise<void> } {
  const settings = resolveSettings(options);
  const client = options.client ?? new SessionsClient({ baseUrl: input.baseUrl, clock: settings.clock, random: settings.random });
  const shells = spawnerOf(options);
  const sandbox = new SessionSandbox(
    { workId: input.workId, sessionId: input.sessionId, workdir: input.workdir, credential: input.credential, secrets: input.secrets, log: input.log, warning: null },
    client,
    { ...settings, toolset: { ...settings.toolset, shells }, keepWorkdir: true, onCall: input.onToolCall ?? (() => undefined) },
  );
  return {
    id: sandbox.id,
    exit: sandbox.exit,
    stop: (graceMs) => sandbox.stop(graceMs),
    kill: () => sandbox.kill(),
    close: async () => {
      if (options.client === undefined) await client.close();
      await shells.close();
    },
  };
}
