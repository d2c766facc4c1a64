/**
 * `envworker run -- <command…>`: serves one work item that someone else claimed and acked (the
 * `ant beta:worker run` contract, for an image that runs one session per sandbox). It holds the
 * item's lease with core's heartbeat stream while the command runs, with the terminal's standard
 * streams, and then:
 *
 * - the command ends: `stop {force: true}`, exit with the command's status;
 * - the control plane asks to stop: SIGTERM, `--stop-grace`, SIGKILL, then as above;
 * - the item is stopped on the server, or the lease is lost: SIGKILL at once, no stop call;
 * - SIGTERM/SIGINT to `run`: passed on to the command, which is killed at a second one.
 *
 * Log lines go to standard error: standard output is the command's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createLogger,
  decodeWorkSecret,
  heartbeat$,
  systemClock,
  WorkApiError,
  WorkClient,
  type LeaseEvent,
  type Logger,
} from '@envworker/core';
import { describeApiError } from '../api-error-message.js';
import type { CliContext } from '../cli-context.js';
import { CliError, EXIT_FAILURE } from '../cli-error.js';
import { DEFAULT_BASE_URL, MISSING_ENVIRONMENT_ID } from '../config/connection-options.js';
import type { Resolved } from '../config/resolve-options.js';
import { RUN_OPTIONS, WORK_SECRET_VARIABLE } from '../config/run-options.js';
import { signalExitCode } from '../worker/shutdown-signals.js';

/** What `run` runs with. */
export interface RunConfig {
  readonly workId: string;
  readonly sessionId: string | undefined;
  readonly environmentId: string;
  readonly baseUrl: string;
  /** The sessions token from the item's secret, else the environment key. */
  readonly credential: string;
  /** Every credential known, to scrub from log lines. */
  readonly secrets: readonly string[];
  readonly leaseTtlSeconds: number | undefined;
  readonly stopGraceMs: number;
  readonly logFormat: 'json' | 'text';
  readonly logLevel: Resolved<typeof RUN_OPTIONS>['values']['logLevel'];
  readonly command: readonly string[];
}

/** Builds the configuration from the resolved options and the item's secret; throws a {@link CliError} naming what is missing. */
export function runConfig(values: Resolved<typeof RUN_OPTIONS>['values'], env: CliContext['env'], command: readonly string[]): RunConfig {
  if (values.workId === undefined) throw new CliError('missing the work item: set --work-id or ANTHROPIC_WORK_ID');
  if (values.environmentId === undefined) throw new CliError(MISSING_ENVIRONMENT_ID);
  const rawSecret = env[WORK_SECRET_VARIABLE];
  let sessionsToken: string | undefined;
  let secretBaseUrl: string | undefined;
  if (rawSecret !== undefined && rawSecret !== '') {
    const decoded = decodeWorkSecret(rawSecret);
    if (decoded.secret === null) throw new CliError(`${WORK_SECRET_VARIABLE}: ${decoded.reason}`);
    sessionsToken = decoded.secret.sessions_token;
    secretBaseUrl = decoded.secret.api_base_url;
  }
  const credential = sessionsToken ?? values.environmentKey;
  if (credential === undefined) {
    throw new CliError(`missing a credential: set ${WORK_SECRET_VARIABLE} (the item's secret) or --environment-key or ANTHROPIC_ENVIRONMENT_KEY`);
  }
  const secrets = [rawSecret, sessionsToken, values.environmentKey].filter((value): value is string => value !== undefined && value !== '');
  return {
    workId: values.workId,
    sessionId: values.sessionId,
    environmentId: values.environmentId,
    baseUrl: values.baseUrl ?? secretBaseUrl ?? DEFAULT_BASE_URL,
    credential,
    secrets,
    leaseTtlSeconds: values.leaseTtl === undefined ? undefined : values.leaseTtl / 1000,
    stopGraceMs: values.stopGrace,
    logFormat: values.logFormat,
    logLevel: values.logLevel,
    command,
  };
}

/** Runs the command under the item's lease; resolves with the exit status. */
export async function runItem(config: RunConfig, context: CliContext): Promise<number> {
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    destination: { write: (line: string) => context.stderr.write(line) },
    knownSecrets: config.secrets,
  }).child({ work_id: config.workId, ...(config.sessionId === undefined ? {} : { session_id: config.sessionId }) });
  const client = new WorkClient({ baseUrl: config.baseUrl, environmentId: config.environmentId });
  try {
    await preflight(client, config);
    return await new ItemRun(config, context, client, logger).run();
  } finally {
    await client.close();
  }
}

/** How long the start-up check waits for the control plane. */
const PREFLIGHT_TIMEOUT_MS = 10_000;

/**
 * Before the command starts: the control plane answers, takes the credential, and holds the item
 * in a state a holder can serve (acked, not stopped).
 */
async function preflight(client: WorkClient, config: RunConfig): Promise<void> {
  let state: string;
  try {
    state = (await client.get(config.workId, { credential: config.credential, maxRetries: 0, timeoutMs: PREFLIGHT_TIMEOUT_MS })).state;
  } catch (error) {
    throw describeApiError(error, {
      baseUrl: config.baseUrl,
      credentialHint: `${WORK_SECRET_VARIABLE} or --environment-key or ANTHROPIC_ENVIRONMENT_KEY`,
      notFoundHint: 'check --work-id or ANTHROPIC_WORK_ID, and --environment-id or ANTHROPIC_ENVIRONMENT_ID',
    });
  }
  if (state === 'queued') throw new CliError(`${config.workId} is queued: whoever claimed it must ack it before run serves it`);
  if (state === 'stopped') throw new CliError(`${config.workId} is stopped already: there is nothing to serve`, EXIT_FAILURE);
}

/** One run: the lease, the command, and how each ends the other. */
class ItemRun {
  readonly #config: RunConfig;
  readonly #context: CliContext;
  readonly #client: WorkClient;
  readonly #logger: Logger;
  /** Set when the item is no longer ours to stop: the server stopped it, or the lease was lost. */
  #leaseGone: 'stopped' | 'lost' | null = null;
  /** Set once the command was asked to stop: a second request kills it. */
  #stopAsked = false;
  #killTimer: NodeJS.Timeout | undefined;
  #child: ChildProcess | undefined;

  constructor(config: RunConfig, context: CliContext, client: WorkClient, logger: Logger) {
    this.#config = config;
    this.#context = context;
    this.#client = client;
    this.#logger = logger;
  }

  async run(): Promise<number> {
    const config = this.#config;
    // The lease first (contract §7.2): the first beat goes out before the command starts.
    const lease = heartbeat$(this.#client, config.workId, {
      clock: systemClock,
      leaseStartedAt: systemClock.now(),
      credential: config.credential,
      desiredTtlSeconds: config.leaseTtlSeconds,
    }).subscribe({
      next: (event) => this.#onLease(event),
      error: (error: unknown) => this.#onLeaseGone('lost', `the heartbeat stream failed: ${error instanceof Error ? error.message : String(error)}`),
    });
    const [program, ...args] = config.command as [string, ...string[]];
    const child = spawn(program, args, { stdio: 'inherit', env: { ...this.#context.env } });
    this.#child = child;
    const onSignal = (signal: NodeJS.Signals): void => this.#onSignal(signal);
    const forwarded = ['SIGTERM', 'SIGINT'] as const;
    const listeners = forwarded.map((signal) => [signal, () => onSignal(signal)] as const);
    for (const [signal, listener] of listeners) this.#context.signals.on(signal, listener);
    this.#logger.info({ command: program, pid: child.pid }, 'serving the work item');

    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    lease.unsubscribe();
    clearTimeout(this.#killTimer);
    for (const [signal, listener] of listeners) this.#context.signals.off(signal, listener);

    let status: number;
    if (ended.error !== undefined) {
      this.#context.stderr.write(`envworker run: cannot run ${JSON.stringify(program)}: ${(ended.error as NodeJS.ErrnoException).code ?? ended.error.message}\n`);
      status = 127;
    } else {
      status = ended.code ?? signalExitCode(ended.signal ?? 'SIGKILL');
      this.#logger.info({ exit_code: ended.code, signal: ended.signal }, 'the command ended');
    }
    if (this.#leaseGone !== null) return status;
    const stopped = await this.#stopItem();
    return stopped || status !== 0 ? status : EXIT_FAILURE;
  }

  #onLease(event: LeaseEvent): void {
    switch (event.type) {
      case 'renewed':
        this.#logger.debug({ ttl_seconds: event.response.ttl_seconds, latency_ms: Math.round(event.latencyMs) }, 'lease renewed');
        return;
      case 'stop_requested':
        this.#logger.info({ grace_ms: this.#config.stopGraceMs }, 'the control plane asked to stop; sending SIGTERM to the command');
        this.#stopCommand('SIGTERM');
        return;
      case 'stopped':
        this.#onLeaseGone('stopped', 'the item was stopped on the server; killing the command');
        return;
      case 'lost':
        this.#onLeaseGone('lost', `lease lost (${event.reason}); killing the command and leaving the item to the control plane`);
        return;
    }
  }

  #onLeaseGone(why: 'stopped' | 'lost', message: string): void {
    this.#leaseGone = why;
    if (why === 'lost') this.#logger.warn(message);
    else this.#logger.info(message);
    this.#kill();
  }

  /** A signal to `run`: the first is passed on (with the grace), a second kills. */
  #onSignal(signal: NodeJS.Signals): void {
    if (!this.#stopAsked) {
      this.#logger.info({ signal, grace_ms: this.#config.stopGraceMs }, 'passing the signal on to the command');
      this.#stopCommand(signal);
    } else {
      this.#logger.warn({ signal }, 'killing the command');
      this.#kill();
    }
  }

  /** The polite signal now, SIGKILL after the grace (once). */
  #stopCommand(signal: NodeJS.Signals): void {
    if (this.#stopAsked) return;
    this.#stopAsked = true;
    this.#child?.kill(signal);
    this.#killTimer = setTimeout(() => this.#kill(), this.#config.stopGraceMs);
  }

  #kill(): void {
    this.#stopAsked = true;
    clearTimeout(this.#killTimer);
    this.#child?.kill('SIGKILL');
  }

  /** `stop {force: true}`; a 409 means it is stopped already. True when the item is stopped. */
  async #stopItem(): Promise<boolean> {
    try {
      await this.#client.stop(this.#config.workId, { force: true }, { credential: this.#config.credential });
      this.#logger.info('stopped the work item');
      return true;
    } catch (error) {
      if (error instanceof WorkApiError && error.status === 409) return true;
      const message = error instanceof Error ? error.message : String(error);
      this.#logger.error({ err_message: message }, 'could not stop the work item; its lease will expire');
      this.#context.stderr.write(`envworker run: could not stop ${this.#config.workId}: ${message}\n`);
      return false;
    }
  }
}
