/**
 * The supervisor: owns the slots, the poll stream and one work-item actor per claimed item. It
 * turns what the actors and the poll stream report into `WorkerEvent`s and log lines, keeps the
 * status, and runs the shutdown (contract §7.8). One item's failure stays in its own actor: the
 * poll loop and the other items never see it.
 */
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Observable, Subject, type Subscription } from 'rxjs';
import type { WorkClient } from '../api/client.js';
import { WorkApiError } from '../api/errors.js';
import { decodeWorkSecret } from '../api/secret.js';
import type { Work } from '../api/wire.js';
import { workLogger } from '../observe/logger.js';
import { redactSecrets } from '../observe/redact-secrets.js';
import type { SandboxRuntime, SandboxSpec } from '../runtime/sandbox-runtime.js';
import { buildSandboxSpec } from '../runtime/sandbox-spec.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import { pollStream, type PollEvent } from './poll-stream.js';
import { SlotPool, type Slot } from './slot-pool.js';
import { startWorkItem, type WorkItemHandle } from './work-item-actor.js';
import {
  describeError,
  workItemMachine,
  type WorkItemEmitted,
  type WorkItemOutput,
  type WorkItemSettings,
} from './work-item-machine.js';
import { WORK_ITEM_OUTCOMES, type WorkItemOutcome } from './work-item-outcome.js';
import { workStateOf, type WorkItemPhase } from './work-item-reactions.js';
import type { WorkerEvent, WorkerItemStatus, WorkerLifecycle, WorkerStatus } from './worker-events.js';

/** Everything a supervisor runs with, already checked (see `createWorker`). */
export interface SupervisorConfig {
  readonly client: Pick<WorkClient, 'poll' | 'ack' | 'get' | 'heartbeat' | 'stop'>;
  readonly runtime: SandboxRuntime;
  readonly environmentId: string;
  readonly environmentKey: string;
  /** What sandboxes are told as `ANTHROPIC_BASE_URL`. */
  readonly baseUrl: string;
  readonly workerId: string;
  readonly maxConcurrency: number;
  readonly pollers: number;
  readonly pollIdleDelayMs: readonly [number, number];
  readonly item: WorkItemSettings;
  /** Work directories go below it, one per claimed item. */
  readonly workdirRoot: string;
  /** Remove `workdirRoot` (if empty) at the end: the worker made it up. */
  readonly ownsWorkdirRoot: boolean;
  readonly logger: Logger;
  /** The set the logger scrubs by value; the supervisor adds each item's secrets while it runs. */
  readonly knownSecrets: Set<string>;
  readonly clock: Clock;
  readonly random: () => number;
  /** Runs once every item has ended (closes a client the worker made). */
  readonly onClosed: () => Promise<void>;
}

/** Options of `shutdown`. */
export interface ShutdownOptions {
  /**
   * `drain` (default): stop polling, let running items finish, and after `deadlineMs` stop the
   * rest gracefully. `stop`: stop polling and stop every item gracefully now.
   */
  readonly mode?: 'drain' | 'stop';
  /** How long `drain` waits for items to finish by themselves; default 30 000 ms. Unused by `stop`. */
  readonly deadlineMs?: number;
}

/** Default of `ShutdownOptions.deadlineMs`. */
export const DEFAULT_DRAIN_DEADLINE_MS = 30_000;

interface ItemRecord {
  readonly seq: number;
  readonly work: Work;
  readonly sessionId: string | null;
  readonly claimedAt: number;
  readonly logger: Logger;
  /** This item's secrets, scrubbed from log lines while it runs. */
  readonly secrets: readonly string[];
  readonly slot: Slot;
  phase: WorkItemPhase;
  outcome?: WorkItemOutcome;
  startedAt?: number;
  handle?: WorkItemHandle;
}

/** Runs a worker; `createWorker` is its public face. */
export class Supervisor {
  readonly #config: SupervisorConfig;
  readonly #slots: SlotPool;
  readonly #events = new Subject<WorkerEvent>();
  readonly #items = new Map<number, ItemRecord>();
  readonly #outcomes: Record<WorkItemOutcome, number>;
  #claimed = 0;
  #seq = 0;
  #lifecycle: WorkerLifecycle = 'idle';
  #polling: Subscription | null = null;
  #drainTimer: TimerHandle | undefined;
  #fatal: Error | null = null;
  #finishing: Promise<void> | null = null;
  readonly #done: Promise<void>;
  #settleDone: (error: Error | null) => void = () => undefined;

  /** Lifecycle events; hot: subscribe before `start()` to see everything. Completes after shutdown. */
  readonly events$: Observable<WorkerEvent>;

  constructor(config: SupervisorConfig) {
    this.#config = config;
    this.#slots = new SlotPool(config.maxConcurrency);
    this.#outcomes = Object.fromEntries(WORK_ITEM_OUTCOMES.map((outcome) => [outcome, 0])) as Record<WorkItemOutcome, number>;
    this.events$ = this.#events.asObservable();
    this.#done = new Promise<void>((resolve, reject) => {
      this.#settleDone = (error) => (error === null ? resolve() : reject(error));
    });
    // `done` also rejects for hosts that never await it; the fatal event and log line tell them.
    this.#done.catch(() => undefined);
  }

  /** Resolves when the worker has shut down; rejects with the fatal poll error, after every item ended. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Starts polling. Resolves once the pollers are running. */
  async start(): Promise<void> {
    if (this.#lifecycle !== 'idle') throw new Error(`start: the worker was already started (it is ${this.#lifecycle})`);
    this.#lifecycle = 'running';
    const config = this.#config;
    try {
      await this.#prepareRuntime();
      await this.#reapLeftovers();
    } catch (error) {
      this.#lifecycle = 'idle';
      throw error;
    }
    this.#polling = pollStream({
      client: config.client,
      environmentId: config.environmentId,
      workerId: config.workerId,
      slots: this.#slots,
      pollers: config.pollers,
      idleDelayMs: config.pollIdleDelayMs,
      clock: config.clock,
      random: config.random,
    }).subscribe({
      next: (event) => this.#onPoll(event),
      error: (error: unknown) => this.#onFatal(error),
    });
    config.logger.info(
      { worker_id: config.workerId, max_concurrency: config.maxConcurrency, pollers: config.pollers, runtime: config.runtime.name },
      'worker started; polling for work',
    );
  }

  /** Lets the runtime check its setup before anything is claimed. */
  async #prepareRuntime(): Promise<void> {
    const { runtime } = this.#config;
    if (runtime.prepare === undefined) return;
    try {
      await runtime.prepare();
    } catch (error) {
      throw new Error(`start: the ${runtime.name} runtime is not ready: ${describeError(error)}`, { cause: error });
    }
  }

  /**
   * Before claiming anything, removes the sandboxes a crashed worker with the same id left behind,
   * so a restarted worker never runs next to its predecessor's orphans.
   */
  async #reapLeftovers(): Promise<void> {
    const { runtime, workerId, logger } = this.#config;
    if (runtime.reap === undefined) return;
    let reaped: number;
    try {
      reaped = await runtime.reap(workerId);
    } catch (error) {
      throw new Error(`start: the ${runtime.name} runtime could not reap what an earlier worker ${workerId} left behind: ${describeError(error)}`, { cause: error });
    }
    if (reaped > 0) logger.warn({ worker_id: workerId, reaped }, 'removed sandboxes that a crashed worker with this id left behind');
  }

  /** Stops the worker (see {@link ShutdownOptions}); resolves when every item's actor is final. */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { mode, deadlineMs } = checkShutdownOptions(options);
    if (this.#finishing !== null) return this.#finish();
    if (this.#lifecycle === 'idle') {
      this.#lifecycle = 'stopping';
      return this.#finish();
    }
    this.#stopPolling();
    if (mode === 'stop') {
      this.#stopItems();
    } else if (this.#lifecycle === 'running') {
      this.#lifecycle = 'draining';
      this.#config.logger.info({ worker_id: this.#config.workerId, items: this.#items.size, deadline_ms: deadlineMs }, 'draining');
      this.#drainTimer = this.#config.clock.setTimeout(() => this.#stopItems(), deadlineMs);
    }
    return this.#whenIdle();
  }

  /** A snapshot of the slots, the items held and the counters. */
  status(): WorkerStatus {
    const items: WorkerItemStatus[] = [...this.#items.values()].map((record) => ({
      workId: record.work.id,
      sessionId: record.sessionId,
      state: workStateOf(record.phase),
      phase: record.phase,
      claimedAt: record.claimedAt,
      ...(record.outcome === undefined ? {} : { outcome: record.outcome }),
      ...(record.startedAt === undefined ? {} : { startedAt: record.startedAt }),
    }));
    const busy = this.#items.size;
    return {
      workerId: this.#config.workerId,
      lifecycle: this.#lifecycle,
      slots: { max: this.#slots.max, busy, polling: this.#slots.taken - busy, free: this.#slots.free },
      items,
      counters: { claimed: this.#claimed, outcomes: { ...this.#outcomes } },
    };
  }

  #onPoll(event: PollEvent): void {
    switch (event.type) {
      case 'work':
        this.#spawn(event.work, event.sentAt, event.at, event.slot);
        return;
      case 'empty':
        this.#emit({ type: 'poll_empty', at: event.at, poller: event.poller });
        return;
      case 'error': {
        const status = event.error instanceof WorkApiError ? event.error.status : null;
        const error = this.#scrub(event.error instanceof Error ? event.error.message : String(event.error));
        this.#config.logger.warn(
          { worker_id: this.#config.workerId, poller: event.poller, status, failures: event.failures, retry_in_ms: Math.round(event.retryInMs), err_message: error },
          'poll failed; backing off',
        );
        this.#emit({ type: 'poll_error', at: event.at, poller: event.poller, status, error, failures: event.failures, retry_in_ms: event.retryInMs });
        return;
      }
    }
  }

  #onFatal(error: unknown): void {
    this.#polling = null;
    this.#fatal = error instanceof Error ? error : new Error(String(error));
    const message = this.#scrub(this.#fatal.message);
    this.#config.logger.error({ worker_id: this.#config.workerId }, message);
    this.#emit({ type: 'fatal', at: this.#config.clock.now(), error: message });
    this.#stopItems();
    void this.#whenIdle();
  }

  #spawn(work: Work, pollSentAt: number, claimedAt: number, slot: Slot): void {
    const config = this.#config;
    const seq = ++this.#seq;
    this.#claimed += 1;
    const logger = workLogger(config.logger, work, config.workerId);
    const decoded = work.secret === null ? null : decodeWorkSecret(work.secret);
    if (decoded !== null && decoded.secret === null) {
      logger.warn({ reason: decoded.reason }, 'the work item carries no usable secret; its calls use the environment key');
    }
    const credential = decoded?.secret?.sessions_token;
    const secrets = [work.secret, credential].filter((value): value is string => typeof value === 'string');
    for (const secret of secrets) config.knownSecrets.add(secret);
    const record: ItemRecord = {
      seq,
      work,
      sessionId: work.data.type === 'session' ? work.data.id : null,
      claimedAt,
      logger,
      secrets,
      slot,
      phase: 'queued',
    };
    this.#items.set(seq, record);
    logger.info({ data_type: work.data.type }, 'claimed');
    this.#emit({ type: 'claimed', ...this.#itemBase(record, claimedAt), data_type: work.data.type });
    record.handle = startWorkItem(workItemMachine, {
      input: {
        work,
        credential,
        polledAt: pollSentAt,
        settings: config.item,
        deps: {
          client: config.client,
          runtime: config.runtime,
          clock: config.clock,
          random: config.random,
          buildSpec: (item) => this.#buildSpec(item, record),
        },
      },
      clock: config.clock,
      onEmitted: (event) => this.#onItemEvent(record, event),
      onPhase: (phase) => {
        record.phase = phase;
      },
    });
    void record.handle.settled.then((output) => this.#onItemSettled(record, output));
  }

  #buildSpec(work: Work, record: ItemRecord): SandboxSpec {
    const config = this.#config;
    return buildSandboxSpec({
      work,
      environmentId: config.environmentId,
      environmentKey: config.environmentKey,
      baseUrl: config.baseUrl,
      workerId: config.workerId,
      // The sequence number keeps a re-claimed item from meeting its earlier directory.
      workdir: join(config.workdirRoot, `${work.id}-${record.seq}`),
      log: { line: (stream, text) => record.logger.info({ sandbox_stream: stream }, text) },
    });
  }

  #onItemEvent(record: ItemRecord, event: WorkItemEmitted): void {
    const base = this.#itemBase(record, event.at);
    switch (event.type) {
      case 'acked':
        record.logger.debug('acked');
        this.#emit({ type: 'acked', ...base });
        return;
      case 'started':
        record.startedAt = event.at;
        record.logger.info({ sandbox_id: event.sandboxId }, 'sandbox started');
        this.#emit({ type: 'started', ...base, sandbox_id: event.sandboxId });
        return;
      case 'lease_renewed':
        record.logger.debug({ ttl_seconds: event.ttlSeconds, latency_ms: event.latencyMs }, 'lease renewed');
        this.#emit({ type: 'lease_renewed', ...base, ttl_seconds: event.ttlSeconds, latency_ms: event.latencyMs, late_ms: event.lateMs });
        return;
      case 'stop_requested':
        record.logger.info('the control plane asked to stop');
        this.#emit({ type: 'stop_requested', ...base });
        return;
      case 'lease_lost':
        record.logger.warn({ reason: event.reason }, 'lease lost; killing the sandbox and leaving the item to the control plane');
        this.#emit({ type: 'lease_lost', ...base, reason: event.reason });
        return;
      case 'stopping':
        record.outcome = event.outcome;
        record.logger.info({ outcome: event.outcome }, 'stopping');
        this.#emit({ type: 'stopping', ...base, outcome: event.outcome });
        return;
    }
  }

  #onItemSettled(record: ItemRecord, output: WorkItemOutput | null): void {
    const at = this.#config.clock.now();
    // An actor ends without output only if it failed itself (a bug), never in a normal flow.
    const outcome = output?.outcome ?? 'failed';
    const rawError = output === null ? 'the work-item actor ended without an outcome' : output.error;
    const error = rawError === null ? undefined : this.#scrub(rawError);
    const exit = output?.exit ?? null;
    const scrubbedExit = exit === null ? undefined : exit.detail === undefined ? exit : { ...exit, detail: this.#scrub(exit.detail) };
    const stopCall = output?.stopCall ?? 'skipped';
    this.#outcomes[outcome] += 1;
    const fields = { outcome, stop_call: stopCall, exit_code: exit?.code, exit_reason: exit?.reason, ...(error === undefined ? {} : { err_message: error }) };
    if (output === null || stopCall === 'failed') record.logger.error(fields, 'stopped');
    else record.logger.info(fields, 'stopped');
    for (const secret of record.secrets) this.#config.knownSecrets.delete(secret);
    this.#items.delete(record.seq);
    record.slot.release();
    this.#emit({
      type: 'stopped',
      ...this.#itemBase(record, at),
      outcome,
      stop_call: stopCall,
      ...(scrubbedExit === undefined ? {} : { exit: scrubbedExit }),
      ...(error === undefined ? {} : { error }),
    });
    if (this.#finishing === null && this.#polling === null && this.#items.size === 0 && this.#lifecycle !== 'running') {
      void this.#finish();
    }
  }

  #stopPolling(): void {
    this.#polling?.unsubscribe();
    this.#polling = null;
  }

  /** Asks every item to stop gracefully (a no-op for items already ending). */
  #stopItems(): void {
    this.#clearDrainTimer();
    if (this.#lifecycle !== 'failed') this.#lifecycle = this.#fatal === null ? 'stopping' : 'failed';
    for (const record of this.#items.values()) record.handle?.actor.send({ type: 'shutdown' });
  }

  #whenIdle(): Promise<void> {
    if (this.#items.size === 0) return this.#finish();
    return this.#done.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Runs once: after the last item, close what the worker owns and settle `done`. */
  #finish(): Promise<void> {
    this.#finishing ??= (async () => {
      this.#clearDrainTimer();
      const config = this.#config;
      try {
        await config.onClosed();
      } catch (error) {
        config.logger.warn({ worker_id: config.workerId, err_message: this.#scrub(String(error)) }, 'closing the client failed');
      }
      if (config.ownsWorkdirRoot) await rmdir(config.workdirRoot).catch(() => undefined);
      this.#lifecycle = this.#fatal === null ? 'stopped' : 'failed';
      config.logger.info({ worker_id: config.workerId, outcomes: this.#outcomes }, 'worker stopped');
      this.#settleDone(this.#fatal);
      this.#events.complete();
    })();
    return this.#finishing.then(
      () => undefined,
      () => undefined,
    );
  }

  #clearDrainTimer(): void {
    if (this.#drainTimer !== undefined) this.#config.clock.clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
  }

  #itemBase(record: ItemRecord, at: number): { at: number; work_id: string; session_id: string | null } {
    return { at, work_id: record.work.id, session_id: record.sessionId };
  }

  #emit(event: WorkerEvent): void {
    this.#events.next(event);
  }

  #scrub(text: string): string {
    return redactSecrets(text, this.#config.knownSecrets);
  }
}

function checkShutdownOptions(options: ShutdownOptions): { mode: 'drain' | 'stop'; deadlineMs: number } {
  if (typeof options !== 'object' || options === null) throw new TypeError('shutdown options must be an object');
  const mode = options.mode ?? 'drain';
  if (mode !== 'drain' && mode !== 'stop') throw new TypeError(`mode must be 'drain' or 'stop', got ${JSON.stringify(mode)}`);
  const deadlineMs = options.deadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS;
  if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs < 0) {
    throw new RangeError('deadlineMs must be a finite number >= 0');
  }
  return { mode, deadlineMs };
}
