/**
 * One work item's session, served in this process as a `Sandbox`: fetch the session (a terminated
 * one is skipped), download its agent's skills into the work directory, then run a
 * `SessionRunner` with this session's own agent toolset plus the host's tools until the session
 * ends. `stop()` cancels the call in flight and sends its error result before the sandbox exits;
 * `kill()` ends everything at once. Either way the bash shell's process group is gone and the
 * work directory removed before `exit` resolves.
 */
import { randomUUID } from 'node:crypto';
import {
  decodeWorkSecret,
  errorCode,
  redactSecrets,
  removeWorkdir,
  type Clock,
  type Logger,
  type LogLevel,
  type Sandbox,
  type SandboxExit,
  type SandboxLogSink,
  type SandboxSpec,
  type SessionsClient,
  type TimerHandle,
} from '@envworker/core';
import { SessionRunner, type RunnerEnd, type ToolCallRecord } from './runner/session-runner.js';
import { sandboxLogger } from './sandbox-log.js';
import { setupSkills } from './skills/setup-skills.js';
import { agentToolset, type AgentToolsetOptions } from './tools/agent-toolset.js';
import type { SessionTool } from './tools/session-tool.js';

/** The one session a sandbox serves, and with what. */
export interface SessionSandboxInput {
  readonly workId: string;
  readonly sessionId: string;
  /** The work directory, which exists; removed at the end unless the settings keep it. */
  readonly workdir: string;
  /** The bearer credential of the session's calls (the sessions token, else the environment key). */
  readonly credential: string;
  /** Every credential the item holds, scrubbed from its log lines and results. */
  readonly secrets: readonly string[];
  readonly log: SandboxLogSink;
  /** Logged once at the start (say, why the environment key serves the session). */
  readonly warning: string | null;
}

/** What every sandbox of one runtime shares. */
export interface SessionSandboxSettings {
  readonly customTools: readonly SessionTool[];
  readonly toolset: Omit<AgentToolsetOptions, 'workdir'>;
  readonly maxIdleMs: number;
  readonly skills: boolean;
  readonly keepWorkdir: boolean;
  readonly logLevel: LogLevel;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onCall: (record: ToolCallRecord) => void;
}

/** How long a killed session may take to let go of its tools before the sandbox exits without them. */
const KILL_WAIT_MS = 5_000;
const MAX_DETAIL_CHARS = 2_000;

type ServeEnd = RunnerEnd | { readonly reason: 'skipped' };

export class SessionSandbox implements Sandbox {
  readonly id = `session-${randomUUID()}`;
  readonly exit: Promise<SandboxExit>;
  #resolveExit: (exit: SandboxExit) => void = () => undefined;
  readonly #input: SessionSandboxInput;
  readonly #settings: SessionSandboxSettings;
  readonly #client: SessionsClient;
  readonly #logger: Logger;
  readonly #startedAt: number;
  /** Ends the set-up (the session fetch, the skills download) on a stop or kill. */
  readonly #setup = new AbortController();
  #runner: SessionRunner | null = null;
  #request: 'stop' | 'kill' | null = null;
  #ended = false;
  readonly #timers: TimerHandle[] = [];

  constructor(input: SessionSandboxInput, client: SessionsClient, settings: SessionSandboxSettings) {
    this.#input = input;
    this.#client = client;
    this.#settings = settings;
    this.#startedAt = settings.clock.now();
    this.exit = new Promise((resolve) => (this.#resolveExit = resolve));
    this.#logger = sandboxLogger(input.log, settings.logLevel, input.secrets);
    if (input.warning !== null) this.#logger.warn(input.warning);
    void this.#serve().then((end) => this.#finish(end));
  }

  stop(graceMs: number): Promise<SandboxExit> {
    if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
      return Promise.reject(new RangeError(`graceMs must be a finite number >= 0, got ${String(graceMs)}`));
    }
    if (this.#ended || this.#request !== null) return this.exit;
    this.#request = 'stop';
    this.#logger.info({ grace_ms: graceMs }, 'stopping the session: cancelling the call in flight');
    this.#setup.abort(new Error('the work item is being stopped'));
    this.#runner?.stop();
    this.#timers.push(this.#settings.clock.setTimeout(() => void this.kill(), graceMs));
    return this.exit;
  }

  kill(): Promise<SandboxExit> {
    if (this.#ended || this.#request === 'kill') return this.exit;
    this.#request = 'kill';
    this.#setup.abort(new Error('the work item was killed'));
    this.#runner?.kill();
    // A tool that ignores its signal must not hold the exit: past this the sandbox ends without it.
    this.#timers.push(this.#settings.clock.setTimeout(() => this.#finish({ reason: 'killed' }), KILL_WAIT_MS));
    return this.exit;
  }

  async #serve(): Promise<ServeEnd> {
    const { sessionId, workId, workdir, credential, secrets } = this.#input;
    let tools: SessionTool[] = [];
    let cleanUpSkills = async (): Promise<void> => undefined;
    try {
      const session = await this.#client.retrieve(sessionId, { credential, signal: this.#setup.signal });
      if (session.status === 'terminated') {
        this.#logger.info('the session is terminated: skipping its work item');
        return { reason: 'skipped' };
      }
      if (this.#settings.skills && session.agent.skills.length > 0) {
        cleanUpSkills = await setupSkills({
          client: this.#client,
          credential,
          skills: session.agent.skills,
          workdir,
          logger: this.#logger,
          signal: this.#setup.signal,
        });
      }
      tools = [...agentToolset({ ...this.#settings.toolset, workdir }), ...this.#settings.customTools];
      const runner = new SessionRunner({
        client: this.#client,
        sessionId,
        workId,
        credential,
        workdir,
        tools: new Map(tools.map((tool) => [tool.name, tool])),
        maxIdleMs: this.#settings.maxIdleMs,
        clock: this.#settings.clock,
        random: this.#settings.random,
        logger: this.#logger,
        secrets,
        onCall: this.#settings.onCall,
      });
      this.#runner = runner;
      if (this.#request === 'stop') runner.stop();
      if (this.#request === 'kill') runner.kill();
      return await runner.run();
    } catch (error) {
      if (this.#request !== null) return { reason: this.#request === 'kill' ? 'killed' : 'stopped' };
      return { reason: 'failed', error: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      await Promise.all(tools.map((tool) => this.#close(tool)));
      await cleanUpSkills();
    }
  }

  async #close(tool: SessionTool): Promise<void> {
    try {
      await tool.close?.();
    } catch (error) {
      this.#logger.warn({ tool: tool.name, err_message: error instanceof Error ? error.message : String(error) }, 'a tool failed to close');
    }
  }

  #finish(end: ServeEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const timer of this.#timers) this.#settings.clock.clearTimeout(timer);
    const durationMs = Math.max(0, this.#settings.clock.now() - this.#startedAt);
    const exit = this.#exitOf(end);
    void this.#removeWorkdir().then((fault) => {
      const detail = [exit.detail, fault].filter((part) => part !== undefined).join('; ');
      this.#resolveExit(detail === '' ? { ...exit, durationMs } : { ...exit, durationMs, detail });
    });
  }

  #exitOf(end: ServeEnd): Omit<SandboxExit, 'durationMs'> {
    if (this.#request === 'kill' || end.reason === 'killed') return { code: null, signal: 'SIGKILL', reason: 'killed' };
    if (this.#request === 'stop' || end.reason === 'stopped') return { code: 0, signal: null, reason: 'stopped', detail: 'the session was stopped' };
    switch (end.reason) {
      case 'skipped':
        return { code: 0, signal: null, reason: 'exited', detail: 'the session is terminated: nothing to serve' };
      case 'idle':
        return { code: 0, signal: null, reason: 'exited', detail: `the session stayed idle for ${this.#settings.maxIdleMs} ms after its turn ended` };
      case 'terminated':
        return { code: 0, signal: null, reason: 'exited', detail: 'the session terminated' };
      case 'failed':
        return { code: 1, signal: null, reason: 'exited', detail: redactSecrets(end.error.message, this.#input.secrets).slice(0, MAX_DETAIL_CHARS) };
    }
  }

  async #removeWorkdir(): Promise<string | undefined> {
    if (this.#settings.keepWorkdir) return undefined;
    try {
      await removeWorkdir(this.#input.workdir);
      return undefined;
    } catch (error) {
      return `workdir could not be removed (${errorCode(error)})`;
    }
  }
}

/**
 * What a sandbox of the worker serves: the item's session with the sessions token from its
 * secret, else (with a warning, as the official worker does) the environment key.
 */
export function sandboxInput(spec: SandboxSpec): SessionSandboxInput {
  const { credential, secrets, warning } = credentialOf(spec);
  return { workId: spec.work.id, sessionId: spec.work.data.id, workdir: spec.workdir, credential, secrets, log: spec.log, warning };
}

function credentialOf(spec: SandboxSpec): { credential: string; secrets: string[]; warning: string | null } {
  const environmentKey = spec.env.ANTHROPIC_ENVIRONMENT_KEY;
  if (spec.work.secret === null) return { credential: environmentKey, secrets: [environmentKey], warning: null };
  const decoded = decodeWorkSecret(spec.work.secret);
  if (decoded.secret === null) {
    return {
      credential: environmentKey,
      secrets: [environmentKey, spec.work.secret],
      warning: `the work item's secret is unusable (${decoded.reason}); serving the session with the environment key`,
    };
  }
  return { credential: decoded.secret.sessions_token, secrets: [environmentKey, spec.work.secret, decoded.secret.sessions_token], warning: null };
}
