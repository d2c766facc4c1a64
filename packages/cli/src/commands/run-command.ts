/**
 * `envworker run [-- <command…>]`: serves one work item that someone else claimed and acked (the
 * `ant beta:worker run` contract, for an image that runs one session per sandbox). It holds the
 * item's lease with core's heartbeat stream while it serves the item: the command when one is
 * given (with the terminal's standard streams), else the item's agent session itself, in
 * `--workdir`. Then:
 *
 * - it ends (the command exits; the session's turn ended and it stayed idle for `--max-idle`, or
 *   it was terminated): `stop {force: true}`, exit with its status;
 * - the control plane asks to stop: SIGTERM to the command (for a session, the tool call in
 *   flight is cancelled and answered), `--stop-grace`, SIGKILL, then as above;
 * - the item is stopped on the server, or the lease is lost: killed at once, no stop call;
 * - SIGTERM/SIGINT to `run`: passed on, killed at a second one.
 *
 * Log lines go to standard error: standard output is the command's.
 */
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
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
import { flagName, type Resolved } from '../config/resolve-options.js';
import { RUN_OPTIONS, SESSION_RUN_OPTIONS, WORK_SECRET_VARIABLE } from '../config/run-options.js';
import { serveCommand } from '../run/served-command.js';
import type { Served } from '../run/served.js';
import { serveSessionItem } from '../run/served-session.js';

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
  /** What to serve: the command, or the session itself. */
  readonly serve: { readonly kind: 'command'; readonly command: readonly string[] } | SessionServe;
}

/** How the session is served when no command is given. */
export interface SessionServe {
  readonly kind: 'session';
  readonly sessionId: string;
  /** Absolute. */
  readonly workdir: string;
  readonly maxIdleMs: number;
  readonly inheritEnv: readonly string[];
  /** Of the session's bash tool. */
  readonly nice: number;
}

/**
 * Builds the configuration from the resolved options and the item's secret; `command` empty
 * means serving the session. Throws a {@link CliError} naming what is missing or misplaced.
 */
export function runConfig(resolved: Resolved<typeof RUN_OPTIONS>, context: Pick<CliContext, 'env' | 'cwd'>, command: readonly string[]): RunConfig {
  const { values, origins } = resolved;
  const { env } = context;
  if (command.length > 0) {
    const misplaced = SESSION_RUN_OPTIONS.find((name) => origins[name] !== undefined && origins[name] !== 'default');
    if (misplaced !== undefined) throw new CliError(`${flagName(RUN_OPTIONS[misplaced])} applies only when run serves the session itself (no command after --)`);
  }
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
  let serve: RunConfig['serve'];
  if (command.length > 0) serve = { kind: 'command', command };
  else {
    if (values.sessionId === undefined) throw new CliError('missing the session to serve: set --session-id or ANTHROPIC_SESSION_ID, or give a command after --');
    serve = { kind: 'session', sessionId: values.sessionId, workdir: resolve(context.cwd, values.workdir ?? '.'), maxIdleMs: values.maxIdle, inheritEnv: values.inheritEnv, nice: values.nice };
  }
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
    serve,
  };
}

/** Serves the item under its lease; resolves with the exit status. */
export async function runItem(config: RunConfig, context: CliContext): Promise<number> {
  if (config.serve.kind === 'session') await requireDirectory(config.serve.workdir);
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

/** The session's working directory must be there: `run` serves in it, it does not make one. */
async function requireDirectory(workdir: string): Promise<void> {
  const found = await stat(workdir).catch(() => null);
  if (found === null) throw new CliError(`--workdir: ${workdir} does not exist`);
  if (!found.isDirectory()) throw new CliError(`--workdir: ${workdir} is not a directory`);
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

/** One run: the lease, what it serves, and how each ends the other. */
class ItemRun {
  readonly #config: RunConfig;
  readonly #context: CliContext;
  readonly #client: WorkClient;
  readonly #logger: Logger;
  /** Set when the item is no longer ours to stop: the server stopped it, or the lease was lost. */
  #leaseGone: 'stopped' | 'lost' | null = null;
  /** Set once what is served was asked to stop: a second request kills it. */
  #stopAsked = false;
  #killTimer: NodeJS.Timeout | undefined;
  #served: Served | undefined;

  constructor(config: RunConfig, context: CliContext, client: WorkClient, logger: Logger) {
    this.#config = config;
    this.#context = context;
    this.#client = client;
    this.#logger = logger;
  }

  async run(): Promise<number> {
    const config = this.#config;
    // The lease first (contract §7.2): the first beat goes out before the item is served.
    const lease = heartbeat$(this.#client, config.workId, {
      clock: systemClock,
      leaseStartedAt: systemClock.now(),
      credential: config.credential,
      desiredTtlSeconds: config.leaseTtlSeconds,
    }).subscribe({
      next: (event) => this.#onLease(event),
      error: (error: unknown) => this.#onLeaseGone('lost', `the heartbeat stream failed: ${error instanceof Error ? error.message : String(error)}`),
    });
    const served = config.serve.kind === 'command' ? serveCommand(config.serve.command, this.#context, this.#logger) : this.#serveSession(config.serve);
    this.#served = served;
    const forwarded = ['SIGTERM', 'SIGINT'] as const;
    const listeners = forwarded.map((signal) => [signal, () => this.#onSignal(signal)] as const);
    for (const [signal, listener] of listeners) this.#context.signals.on(signal, listener);

    const status = await served.ended;
    lease.unsubscribe();
    clearTimeout(this.#killTimer);
    for (const [signal, listener] of listeners) this.#context.signals.off(signal, listener);
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
    this.#served?.stop(signal);
    this.#killTimer = setTimeout(() => this.#kill(), this.#config.stopGraceMs);
  }

  #kill(): void {
    this.#stopAsked = true;
    clearTimeout(this.#killTimer);
    this.#served?.kill();
  }

  #serveSession(serve: SessionServe): Served {
    const config = this.#config;
    return serveSessionItem(
      {
        workId: config.workId,
        sessionId: serve.sessionId,
        workdir: serve.workdir,
        baseUrl: config.baseUrl,
        credential: config.credential,
        secrets: config.secrets,
        maxIdleMs: serve.maxIdleMs,
        inheritEnv: serve.inheritEnv,
        nice: serve.nice,
        stopGraceMs: config.stopGraceMs,
      },
      this.#logger,
    );
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
