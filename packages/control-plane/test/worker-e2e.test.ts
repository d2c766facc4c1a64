/**
 * The worker end to end: `createWorker` with the in-process function runtime against the local
 * control plane over real HTTP on 127.0.0.1, on the system clock. Every wait is on the worker's
 * events with a deadline, never a fixed sleep.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createWorker,
  decodeWorkSecret,
  FatalPollError,
  functionRuntime,
  WorkClient,
  type SandboxRuntime,
  type StopParams,
  type CallOptions,
  type Work,
  type WorkContext,
  type WorkerEvent,
  type WorkerOptions,
  type Worker,
} from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';

/** The real client, counting the stop{force:true} calls that succeeded, per item. */
class CountingClient extends WorkClient {
  readonly forcedStops = new Map<string, number>();

  override async stop(workId: string, params: StopParams = {}, options: CallOptions = {}): Promise<Work> {
    const work = await super.stop(workId, params, options);
    if (params.force === true) this.forcedStops.set(workId, (this.forcedStops.get(workId) ?? 0) + 1);
    return work;
  }
}

/** The worker's events as they come, with a way to wait for a condition on them. */
class EventLog {
  readonly events: WorkerEvent[] = [];
  #waiters: Array<() => void> = [];

  constructor(worker: Worker) {
    worker.events$.subscribe((event) => {
      this.events.push(event);
      for (const waiter of [...this.#waiters]) waiter();
    });
  }

  of<T extends WorkerEvent['type']>(type: T, workId?: string): Array<Extract<WorkerEvent, { type: T }>> {
    return this.events.filter(
      (event): event is Extract<WorkerEvent, { type: T }> =>
        event.type === type && (workId === undefined || ('work_id' in event && event.work_id === workId)),
    );
  }

  /** Resolves once `done()` holds, checked at every event; rejects after `deadlineMs` of real time. */
  until(what: string, done: () => boolean, deadlineMs = 10_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; last events: ${JSON.stringify(this.events.slice(-5))}`));
      }, deadlineMs);
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.#waiters.push(check);
    });
  }
}

/** A promise with its resolve function, to hold a work function until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Resolves once the control plane reports no long poll waiting; rejects after `deadlineMs`. */
async function serverPollsGone(deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const metrics = await (await fetch(`${cp.url}/metrics`)).text();
    const waiting = /^envworker_control_plane_waiting_polls (\d+)$/m.exec(metrics)?.[1];
    if (waiting === '0') return;
    if (Date.now() > deadline) throw new Error(`the control plane still reports ${String(waiting)} waiting polls`);
  }
}

let cp: ControlPlane;
let admin: WorkClient;
const logLines: string[] = [];
const workers: Worker[] = [];

beforeEach(async () => {
  logLines.length = 0;
  cp = await startControlPlane({ lease: { minTtlSeconds: 1, maxTtlSeconds: 600, defaultTtlSeconds: 120 } });
  admin = new WorkClient({ baseUrl: cp.url, environmentId: env().id, apiKey: cp.adminKey });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.shutdown({ mode: 'stop' })));
  await admin.close();
  await cp.close();
});

function env(): { id: string; key: string } {
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('the control plane has no environment');
  return environment;
}

function worker(runtime: SandboxRuntime, options: Partial<WorkerOptions> = {}): { worker: Worker; log: EventLog } {
  const created = createWorker({
    baseUrl: cp.url,
    environmentId: env().id,
    environmentKey: env().key,
    runtime,
    pollIdleDelayMs: [0, 0],
    leaseTtlSeconds: 3,
    stopGraceMs: 2000,
    logger: { level: 'debug', destination: { write: (line: string) => void logLines.push(line) } },
    ...options,
  });
  workers.push(created);
  return { worker: created, log: new EventLog(created) };
}

describe('worker end to end', () => {
  it('runs 100 items 16 at a time; each completes and is stopped exactly once; no secret is logged or emitted', async () => {
    const client = new CountingClient({ baseUrl: cp.url, environmentId: env().id, environmentKey: env().key });
    let running = 0;
    let most = 0;
    let started = 0;
    const allSixteenUp = gate();
    const tokens = new Set<string>();
    const fn = async (_work: Work, ctx: WorkContext): Promise<void> => {
      running += 1;
      started += 1;
      most = Math.max(most, running);
      const token = decodeWorkSecret(ctx.env.ANTHROPIC_WORK_SECRET).secret?.sessions_token;
      if (token !== undefined) tokens.add(token);
      ctx.logger.info({ token_length: token?.length }, 'running');
      // The first sixteen hold on until sixteen run at once: the worker must reach its limit.
      if (running === 16) allSixteenUp.open();
      if (started <= 16) await allSixteenUp.promise;
      running -= 1;
    };
    const enqueued = await Promise.all(Array.from({ length: 100 }, () => cp.enqueue()));
    const { worker: w, log } = worker(functionRuntime(fn), { client, maxConcurrency: 16, pollers: 4 });
    await w.start();
    await log.until('100 items stopped', () => log.of('stopped').length === 100, 20_000);

    expect(most).toBe(16);
    const stopped = log.of('stopped');
    expect(new Set(stopped.map((event) => event.work_id))).toEqual(new Set(enqueued.map((work) => work.id)));
    expect(stopped.every((event) => event.outcome === 'completed' && event.stop_call === 'done')).toBe(true);
    for (const work of enqueued) {
      expect(client.forcedStops.get(work.id), work.id).toBe(1);
      const final = await admin.get(work.id);
      expect(final.state).toBe('stopped');
      expect(final.stopped_at).not.toBeNull();
    }
    expect(w.status().counters.outcomes.completed).toBe(100);
    expect(w.status().counters.claimed).toBe(100);

    await w.shutdown({ mode: 'drain' });
    await client.close();
    expect(tokens.size).toBe(100);
    const everything = logLines.join('') + JSON.stringify(log.events);
    for (const token of tokens) expect(everything).not.toContain(token);
    expect(everything).not.toContain(env().key);
    // Every line about an item carries the worker's and the item's ids.
    const itemLines = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'stopped');
    expect(itemLines).toHaveLength(100);
    for (const line of itemLines) expect(line).toMatchObject({ worker_id: w.workerId, work_id: expect.any(String), session_id: expect.any(String) });
  });

  it("an operator's graceful stop reaches the running function as an abort; the item ends stopped_by_control_plane", async () => {
    let sawAbort = false;
    const fn = async (_work: Work, ctx: WorkContext): Promise<void> => {
      await aborted(ctx.signal);
      sawAbort = true;
    };
    const work = await cp.enqueue();
    const { worker: w, log } = worker(functionRuntime(fn));
    await w.start();
    await log.until('the lease held', () => log.of('lease_renewed', work.id).length > 0 && log.of('started', work.id).length > 0);
    expect(w.status().items).toEqual([expect.objectContaining({ workId: work.id, state: 'active', phase: 'active' })]);

    await admin.stop(work.id, { force: false });
    await log.until('the item stopped', () => log.of('stopped', work.id).length > 0);

    expect(sawAbort).toBe(true);
    expect(log.of('stop_requested', work.id), JSON.stringify(log.events)).toHaveLength(1);
    expect(log.of('stopped', work.id)[0]).toMatchObject({ outcome: 'stopped_by_control_plane', stop_call: 'done', exit: { reason: 'stopped', code: 0 } });
    const final = await admin.get(work.id);
    expect(final.state).toBe('stopped');
    expect(final.stop_requested_at).not.toBeNull();
  });

  it('drain: stops polling at once, lets running items finish, claims nothing enqueued after it began', async () => {
    const release = gate();
    const fn = async (): Promise<void> => {
      await release.promise;
    };
    const running = await Promise.all([cp.enqueue(), cp.enqueue()]);
    const { worker: w, log } = worker(functionRuntime(fn), { maxConcurrency: 4, pollers: 2 });
    await w.start();
    await log.until('both items started', () => log.of('started').length === 2);

    const drained = w.shutdown({ mode: 'drain', deadlineMs: 10_000 });
    expect(w.status().lifecycle).toBe('draining');
    // The worker aborted its long polls at once; the server learns of it when their connections
    // close. Items enqueued before that could be handed to a poll nobody reads (and redelivered
    // after the reclaim window), so the test enqueues once the server has let the polls go.
    await serverPollsGone(5000);
    const late = await Promise.all([cp.enqueue(), cp.enqueue()]);
    release.open();
    await drained;

    expect(log.of('stopped').map((event) => [event.work_id, event.outcome]).sort()).toEqual(running.map((work) => [work.id, 'completed']).sort());
    expect(log.of('claimed')).toHaveLength(2);
    for (const work of late) expect((await admin.get(work.id)).state).toBe('queued');
    expect((await admin.stats()).depth).toBe(2);
    expect(w.status().lifecycle).toBe('stopped');
    await expect(w.done).resolves.toBeUndefined();
  });

  it('drain past its deadline stops the remaining items gracefully: outcome shutdown, released on the server', async () => {
    const fn = async (_work: Work, ctx: WorkContext): Promise<void> => {
      await aborted(ctx.signal);
    };
    const work = await cp.enqueue();
    const { worker: w, log } = worker(functionRuntime(fn));
    await w.start();
    await log.until('the item started', () => log.of('started', work.id).length > 0);
    await w.shutdown({ mode: 'drain', deadlineMs: 50 });
    expect(log.of('stopped', work.id)[0]).toMatchObject({ outcome: 'shutdown', stop_call: 'done', exit: { reason: 'stopped' } });
    expect((await admin.get(work.id)).state).toBe('stopped');
  });

  it('a healthcheck item runs no sandbox: probed, then stopped on the server', async () => {
    let calls = 0;
    const work = await cp.enqueue({ data: { type: 'healthcheck' } });
    const { worker: w, log } = worker(functionRuntime(() => void (calls += 1)));
    await w.start();
    await log.until('the healthcheck stopped', () => log.of('stopped', work.id).length > 0);
    expect(log.of('stopped', work.id)[0]).toMatchObject({ outcome: 'healthcheck', stop_call: 'done', session_id: null });
    expect(log.of('started')).toHaveLength(0);
    expect(calls).toBe(0);
    expect((await admin.get(work.id)).state).toBe('stopped');
  });

  it('failing items (a throwing function, a runtime that cannot start) disturb neither each other nor the poll loop', async () => {
    const functions = functionRuntime((work) => {
      if (work.metadata['mode'] === 'throw') throw new Error('the session crashed');
    });
    const runtime: SandboxRuntime = {
      name: 'picky',
      start: (spec, signal) =>
        spec.work.metadata['mode'] === 'refuse' ? Promise.reject(new Error('no capacity for this one')) : functions.start(spec, signal),
    };
    const modes = ['throw', 'refuse', 'ok', 'throw', 'ok', 'refuse', 'ok'];
    const items = await Promise.all(modes.map((mode) => cp.enqueue({ metadata: { mode } })));
    const { worker: w, log } = worker(runtime, { maxConcurrency: 3 });
    await w.start();
    await log.until('every item stopped', () => log.of('stopped').length === items.length);
    const expected = { throw: 'failed', refuse: 'start_failed', ok: 'completed' } as const;
    for (const [index, work] of items.entries()) {
      const event = log.of('stopped', work.id)[0];
      expect(event?.outcome).toBe(expected[modes[index] as keyof typeof expected]);
      expect(event?.stop_call).toBe('done');
      expect((await admin.get(work.id)).state).toBe('stopped');
    }
    expect(log.of('stopped', items[0]?.id)[0]?.exit).toMatchObject({ code: 1, detail: 'the session crashed' });
    expect(log.of('stopped', items[1]?.id)[0]?.error).toContain('no capacity for this one');
    expect(w.status().lifecycle).toBe('running');
  });

  it('a refused environment key ends polling with a fatal error saying what to fix', async () => {
    const { worker: w, log } = worker(functionRuntime(() => undefined), { environmentKey: 'envkey-not-known-to-the-server-123' });
    await w.start();
    const failure = await w.done.then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(FatalPollError);
    expect((failure as FatalPollError).message).toMatch(/401.*check environmentKey/);
    expect(log.of('fatal')).toHaveLength(1);
    expect(w.status().lifecycle).toBe('failed');
    expect(logLines.join('')).not.toContain('envkey-not-known-to-the-server-123');
  });
});
