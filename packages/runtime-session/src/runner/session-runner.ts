/**
 * `SessionRunner`: serves the tool calls of one session, as the official `SessionToolRunner` does.
 *
 * It attaches to the session's live event stream first and then reads the whole history, so an
 * event emitted in between is on the stream rather than lost, and a call whose result is already
 * in the history is never run again (`seen` and `answered` dedupe what shows up twice). Each call
 * runs to its end before the next event is read, so one session's calls run one at a time, in
 * order; other sessions are other runners. A call gated with `evaluated_permission: "ask"` (or any
 * permission it does not know: fail closed) waits for its `user.tool_confirmation`; only `allow`
 * runs it. A call of a terminated session thread is not run. A name no tool answers to is left
 * for its owner (another client serving the session's custom tools) and not answered.
 *
 * It ends when the session terminates, when the session has been idle with its turn over for
 * `maxIdleMs`, on `stop()` (the call in flight is cancelled and its error result sent first), on
 * `kill()` (everything ends now), or when the server refuses the session for good (a 4xx other
 * than 408/409/429: the credential, the session): no retry storm, one failure. A broken stream is
 * reconnected with backoff (500 ms doubling to 10 s).
 */
import { MalformedStreamEvent, WorkApiError, type Clock, type Logger, type SessionEvent, type SessionsClient, type StreamedEvent } from '@envworker/core';
import type { SessionTool } from '../tools/session-tool.js';
import { executeCall, type CallEnding } from './call-execution.js';
import { sleepOn } from './clock-sleep.js';
import { IdleClock } from './idle-clock.js';
import { sendResult } from './result-sender.js';
import { classifyEvent, isIdleNeutral, type CallKind, type ClassifiedEvent, type ToolCall } from './session-events.js';
import { resultEvent } from './tool-result.js';

/** Why a runner ended. */
export type RunnerEnd =
  | { readonly reason: 'idle' | 'terminated' | 'stopped' | 'killed' }
  | { readonly reason: 'failed'; readonly error: Error };

/** What happened to one call, for observers (the live view, metrics, a host). */
export interface ToolCallRecord {
  readonly workId: string;
  readonly sessionId: string;
  readonly toolUseId: string;
  readonly kind: CallKind;
  readonly name: string;
  /**
   * `ok`, `error`, `timeout`, `cancelled`: it ran; `denied`: the confirmation or the server refused
   * it; `malformed`: the event could not be read and was answered with an error; `unowned`: no
   * tool of this runner has that name, so it was left for its owner.
   */
  readonly ending: CallEnding | 'denied' | 'malformed' | 'unowned';
  readonly isError: boolean;
  /** Whether the result reached the server. */
  readonly posted: boolean;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface SessionRunnerOptions {
  readonly client: SessionsClient;
  readonly sessionId: string;
  readonly workId: string;
  /** The bearer credential of every sessions call: the item's sessions token (else the environment key). */
  readonly credential: string;
  readonly workdir: string;
  /** The tools by name. */
  readonly tools: ReadonlyMap<string, SessionTool>;
  /** Idle time after the turn ended before the runner ends; `<= 0`: never. */
  readonly maxIdleMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  /** Credentials to scrub from results. */
  readonly secrets: readonly string[];
  readonly onCall?: (record: ToolCallRecord) => void;
  /** How long a failing result send is retried; default 5 minutes. */
  readonly sendRetryWindowMs?: number;
}

const STREAM_BACKOFF_START_MS = 500;
const STREAM_BACKOFF_CAP_MS = 10_000;
const HISTORY_PAGE = 1000;

export class SessionRunner {
  readonly #options: SessionRunnerOptions;
  readonly #logger: Logger;
  readonly #idle: IdleClock;
  /** Ends all of the session's I/O when the runner ends. */
  readonly #session = new AbortController();
  /** Cancels the call in flight: aborted by `stop()` and `kill()`. */
  readonly #calls = new AbortController();
  /** Aborts result sends: only `kill()` (a stopped call's result is still sent). */
  readonly #sends = new AbortController();
  readonly #seen = new Set<string>();
  readonly #answered = new Set<string>();
  readonly #verdicts = new Map<string, string>();
  readonly #held = new Map<string, ToolCall>();
  readonly #terminatedThreads = new Set<string>();
  #end: RunnerEnd | null = null;
  #resolveEnd: (end: RunnerEnd) => void = () => undefined;
  readonly #ended: Promise<RunnerEnd>;
  #stopping = false;
  #inFlight = 0;
  #started = false;

  constructor(options: SessionRunnerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#ended = new Promise((resolve) => (this.#resolveEnd = resolve));
    this.#idle = new IdleClock(options.maxIdleMs, options.clock, () => {
      this.#logger.info({ max_idle_ms: options.maxIdleMs }, 'the session stayed idle after its turn ended; ending');
      this.#finish({ reason: 'idle' });
    });
  }

  /** Serves the session; resolves with why it ended, once nothing of it runs any more. Call once. */
  async run(): Promise<RunnerEnd> {
    if (this.#started) throw new Error('SessionRunner.run: already running');
    this.#started = true;
    const loop = this.#streamLoop().catch((error: unknown) => {
      this.#finish({ reason: 'failed', error: error instanceof Error ? error : new Error(String(error)) });
    });
    const end = await this.#ended;
    await loop;
    return end;
  }

  /** Ends the session gracefully: the call in flight is cancelled and its error result sent, then the runner ends. */
  stop(): void {
    if (this.#end !== null || this.#stopping) return;
    this.#stopping = true;
    this.#calls.abort(new Error('the work item is being stopped'));
    if (this.#inFlight === 0) this.#finish({ reason: 'stopped' });
  }

  /** Ends everything now: the call in flight is cancelled and nothing more is sent. */
  kill(): void {
    this.#calls.abort(new Error('the work item was killed'));
    this.#sends.abort();
    this.#finish({ reason: 'killed' });
  }

  #finish(end: RunnerEnd): void {
    if (this.#end !== null) return;
    this.#end = end;
    this.#idle.disarm();
    this.#session.abort();
    this.#resolveEnd(end);
  }

  async #streamLoop(): Promise<void> {
    const { client, sessionId, credential, clock } = this.#options;
    const signal = this.#session.signal;
    let backoffMs = STREAM_BACKOFF_START_MS;
    while (this.#end === null) {
      let stream: Awaited<ReturnType<SessionsClient['streamEvents']>> | undefined;
      try {
        stream = await client.streamEvents(sessionId, { credential, signal });
        await this.#reconcile();
        for await (const item of stream.events) {
          backoffMs = STREAM_BACKOFF_START_MS;
          await this.#onStreamItem(item);
          if (this.#end !== null) return;
        }
        this.#logger.debug('the event stream ended; reconnecting');
      } catch (error) {
        if (this.#end !== null) return;
        if (isPermanent(error)) {
          this.#logger.error({ err_message: (error as Error).message }, 'the server refused the session; ending without retrying');
          this.#finish({ reason: 'failed', error: error as Error });
          return;
        }
        this.#logger.warn({ err_message: error instanceof Error ? error.message : String(error), backoff_ms: backoffMs }, 'the event stream broke; reconnecting');
      } finally {
        stream?.close();
      }
      if (!(await sleepOn(clock, backoffMs, signal))) return;
      backoffMs = Math.min(backoffMs * 2, STREAM_BACKOFF_CAP_MS);
    }
  }

  /**
   * Reads the whole history, then runs what it left unanswered, in order. Then, if the last
   * event ended the turn and nothing is outstanding, the idle countdown starts: the turn may have
   * ended while the stream was down.
   */
  async #reconcile(): Promise<void> {
    const { client, sessionId, credential } = this.#options;
    const pending: ClassifiedEvent[] = [];
    let lastEndsTurn = false;
    for await (const event of client.listAllEvents(sessionId, { limit: HISTORY_PAGE }, { credential, signal: this.#session.signal })) {
      const classified = classifyEvent(event);
      this.#ingest(classified, pending);
      if (!isIdleNeutral(classified)) lastEndsTurn = classified.kind === 'idle' && classified.endsTurn;
    }
    this.#releaseTerminatedHolds();
    // A countdown from before a reconnect must not fire over a call this pass runs.
    this.#idle.disarm();
    for (const classified of pending) {
      if (this.#end !== null || this.#stopping) return;
      if (classified.kind === 'call') await this.#route(classified.call);
      else if (classified.kind === 'malformed_call') await this.#answerMalformed(classified.callKind, classified.id as string, classified.problem);
    }
    for (const held of [...this.#held.values()]) {
      const verdict = this.#verdicts.get(held.id);
      if (verdict !== undefined) await this.#applyVerdict(held, verdict);
    }
    const outstanding = pending.some((classified) => {
      const id = classified.kind === 'call' ? classified.call.id : classified.kind === 'malformed_call' ? classified.id : undefined;
      return id !== undefined && !this.#answered.has(id) && !this.#held.has(id) && !(classified.kind === 'call' && this.#inTerminatedThread(classified.call));
    });
    if (lastEndsTurn && !outstanding) this.#idle.arm();
  }

  /** Notes what one history event says; unanswered calls go to `pending`. */
  #ingest(classified: ClassifiedEvent, pending: ClassifiedEvent[]): void {
    switch (classified.kind) {
      case 'call':
        this.#seen.add(classified.call.id);
        if (!this.#answered.has(classified.call.id)) pending.push(classified);
        return;
      case 'malformed_call':
        if (classified.id === undefined) {
          this.#logger.warn({ problem: classified.problem }, 'skipping a tool call that has no usable id');
          return;
        }
        this.#seen.add(classified.id);
        if (!this.#answered.has(classified.id)) pending.push(classified);
        return;
      case 'answered':
        this.#answered.add(classified.toolUseId);
        return;
      case 'confirmation':
        // The verdict only: the routing of its call (later in `pending`) applies it once.
        if (!this.#answered.has(classified.toolUseId)) this.#verdicts.set(classified.toolUseId, classified.verdict);
        return;
      case 'thread_terminated':
        this.#terminatedThreads.add(classified.threadId);
        return;
      case 'other':
        if (classified.problem !== undefined) this.#logger.warn({ problem: classified.problem }, 'skipping a malformed event');
        return;
      case 'idle':
      case 'terminated':
        return;
    }
  }

  async #onStreamItem(item: StreamedEvent): Promise<void> {
    if (item instanceof MalformedStreamEvent) {
      this.#logger.warn({ problem: item.reason }, 'skipping a stream message that is not a session event');
      return;
    }
    const classified = classifyEvent(item as SessionEvent);
    if (!isIdleNeutral(classified)) {
      if (classified.kind === 'idle' && classified.endsTurn) this.#idle.arm();
      else this.#idle.disarm();
    }
    switch (classified.kind) {
      case 'call':
        if (this.#seen.has(classified.call.id)) return;
        this.#seen.add(classified.call.id);
        await this.#route(classified.call);
        return;
      case 'malformed_call':
        if (classified.id === undefined) {
          this.#logger.warn({ problem: classified.problem }, 'skipping a tool call that has no usable id');
          return;
        }
        if (this.#seen.has(classified.id)) return;
        this.#seen.add(classified.id);
        await this.#answerMalformed(classified.callKind, classified.id, classified.problem);
        return;
      case 'confirmation': {
        this.#verdicts.set(classified.toolUseId, classified.verdict);
        const held = this.#held.get(classified.toolUseId);
        if (held !== undefined) await this.#applyVerdict(held, classified.verdict);
        return;
      }
      case 'answered':
        this.#answered.add(classified.toolUseId);
        return;
      case 'thread_terminated':
        this.#terminatedThreads.add(classified.threadId);
        this.#releaseTerminatedHolds();
        return;
      case 'terminated':
        this.#logger.info('the session terminated');
        this.#finish({ reason: 'terminated' });
        return;
      case 'other':
        if (classified.problem !== undefined) this.#logger.warn({ problem: classified.problem }, 'skipping a malformed event');
        return;
      case 'idle':
        return;
    }
  }

  /** Runs, holds or refuses a call by its permission and any verdict already known. */
  async #route(call: ToolCall): Promise<void> {
    if (this.#end !== null || this.#stopping) return;
    if (this.#inTerminatedThread(call)) {
      this.#logger.debug({ tool: call.name, tool_use_id: call.id }, 'not running a call of a terminated session thread');
      return;
    }
    // A server-side deny overrides any verdict on record.
    const verdict = call.permission === 'deny' ? 'deny' : this.#verdicts.get(call.id);
    if (verdict !== undefined) {
      await this.#applyVerdict(call, verdict);
      return;
    }
    if (call.permission === undefined || call.permission === 'allow') {
      await this.#execute(call);
      return;
    }
    if (!this.#held.has(call.id)) {
      this.#logger.info({ tool: call.name, tool_use_id: call.id }, 'the call waits for a confirmation');
      this.#held.set(call.id, call);
      this.#idle.block(call.id);
    }
  }

  /** `allow` runs the call; any other verdict (`deny`, or one not known: fail closed) resolves it unrun. */
  async #applyVerdict(call: ToolCall, verdict: string): Promise<void> {
    const wasHeld = this.#held.delete(call.id);
    if (verdict === 'allow') {
      if (!wasHeld) this.#idle.block(call.id);
      try {
        await this.#execute(call);
      } finally {
        this.#idle.unblock(call.id);
      }
      return;
    }
    if (wasHeld) this.#idle.unblock(call.id);
    this.#answered.add(call.id);
    this.#logger.info({ tool: call.name, tool_use_id: call.id }, 'the call was denied; not running it');
    this.#surface(call.kind, call.id, call.name, { ending: 'denied', isError: false, posted: false }, this.#options.clock.now());
  }

  #releaseTerminatedHolds(): void {
    for (const held of [...this.#held.values()]) {
      if (!this.#inTerminatedThread(held)) continue;
      this.#held.delete(held.id);
      this.#idle.unblock(held.id);
    }
  }

  #inTerminatedThread(call: ToolCall): boolean {
    return call.threadId !== undefined && this.#terminatedThreads.has(call.threadId);
  }

  async #execute(call: ToolCall): Promise<void> {
    if (this.#answered.has(call.id) || this.#end !== null || this.#stopping) return;
    const { clock, tools } = this.#options;
    const startedAt = clock.now();
    const tool = tools.get(call.name);
    if (tool === undefined) {
      this.#logger.info({ tool: call.name, tool_use_id: call.id }, 'no tool of this worker has that name; leaving the call to its owner');
      this.#surface(call.kind, call.id, call.name, { ending: 'unowned', isError: false, posted: false }, startedAt);
      return;
    }
    this.#inFlight += 1;
    try {
      const { sessionId, workId, workdir, secrets } = this.#options;
      const logger = this.#logger.child({ tool: call.name, tool_use_id: call.id });
      const outcome = await executeCall({
        tool,
        call,
        context: { workdir, sessionId, workId, toolUseId: call.id, logger },
        signal: this.#calls.signal,
        clock,
        secrets,
      });
      const posted = await this.#send(call.kind, call.id, outcome.isError, outcome.content);
      logger.info({ is_error: outcome.isError, ending: outcome.ending, posted, duration_ms: Math.round(clock.now() - startedAt) }, 'tool call');
      this.#surface(call.kind, call.id, call.name, { ending: outcome.ending, isError: outcome.isError, posted }, startedAt);
    } finally {
      this.#inFlight -= 1;
      if (this.#stopping) this.#finish({ reason: 'stopped' });
    }
  }

  /** A call that cannot be run as sent: its error result names what is wrong. */
  async #answerMalformed(kind: CallKind, id: string, problem: string): Promise<void> {
    if (this.#answered.has(id) || this.#end !== null || this.#stopping) return;
    const startedAt = this.#options.clock.now();
    this.#logger.warn({ tool_use_id: id, problem }, 'answering a malformed tool call with an error');
    const posted = await this.#send(kind, id, true, [{ type: 'text', text: `malformed tool call: ${problem}` }]);
    this.#surface(kind, id, '(malformed)', { ending: 'malformed', isError: true, posted }, startedAt);
  }

  async #send(kind: CallKind, id: string, isError: boolean, content: Parameters<typeof resultEvent>[3]): Promise<boolean> {
    const { client, sessionId, credential, clock, random, sendRetryWindowMs } = this.#options;
    const posted = await sendResult(
      { client, sessionId, credential, clock, random, logger: this.#logger, signal: this.#sends.signal, ...(sendRetryWindowMs === undefined ? {} : { windowMs: sendRetryWindowMs }) },
      resultEvent(kind, id, isError, content),
      id,
    );
    if (posted) this.#answered.add(id);
    return posted;
  }

  #surface(kind: CallKind, toolUseId: string, name: string, result: Pick<ToolCallRecord, 'ending' | 'isError' | 'posted'>, startedAt: number): void {
    const { onCall, sessionId, workId, clock } = this.#options;
    onCall?.({ workId, sessionId, toolUseId, kind, name, ...result, startedAt, durationMs: clock.now() - startedAt });
  }
}

/** A refusal that trying again cannot change: a 4xx other than 408, 409 and 429 (a bad credential, an unknown session). */
function isPermanent(error: unknown): boolean {
  return error instanceof WorkApiError && error.status !== null && error.status >= 400 && error.status < 500 && !error.isTransient();
}
