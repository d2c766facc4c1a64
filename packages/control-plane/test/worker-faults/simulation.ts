/**
 * One simulated run: the real control plane and one to three real workers on ONE virtual clock,
 * each worker behind its own fault proxy, with the journaled function runtime as sandboxes.
 *
 * The HTTP I/O is real and only time is virtual, so the run alternates: do a step, let the I/O it
 * started settle, move the clock to the next due timer, settle again, and so on. `settle()` waits
 * (with a real-time deadline as a safety net only) until nothing is in progress: every call a
 * worker has made is either held on purpose by its proxy or a long poll parked at the server, no
 * sandbox is being started, and nothing new was logged for a few turns of the event loop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createWorker,
  VirtualClock,
  WorkApiError,
  WorkClient,
  type Worker,
  type WorkerEvent,
  type WorkState,
} from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../../src/index.js';
import { FaultProxy, type FaultRule, type ProxyEvent } from './fault-proxy.js';
import { Invariants } from './invariants.js';
import { Journal } from './journal.js';
import { Activity, DURATION_KEY, journaledRuntime } from './journaled-runtime.js';
import { ObservedClient, type ClientCall } from './observed-client.js';
import { ObservedStore } from './observed-store.js';
import { SimLog } from './sim-log.js';
import { FreezableClock, TrackedClock } from './sim-clock.js';

/** How one worker is configured. */
export interface WorkerPlan {
  readonly maxConcurrency: number;
  /** Long polls at once, at most `maxConcurrency`. */
  readonly pollers: number;
  readonly leaseTtlSeconds: number;
  readonly stopGraceMs: number;
}

/** How one run is configured. */
export interface RunPlan {
  readonly workers: readonly WorkerPlan[];
  /** The server's TTL of a lease from the ack until the first beat (≥ the contract's 10 s minimum). */
  readonly serverDefaultTtlSeconds: number;
  /** Seeds each worker's jitter. */
  readonly seed: number;
}

/** In which order a thawed worker sees what happened while it was frozen. */
export type ThawOrder = 'timers_first' | 'io_first';

const T0 = Date.parse('2026-11-28T17:00:00Z');
/** Safety net of one settle, in real time: a run that needs longer is stuck, and says where. */
const SETTLE_DEADLINE_MS = 5000;
/** Event-loop turns in a row with nothing in progress before a settle counts as quiet. */
const QUIET_TURNS = 3;
/** Timers fired in one advance before it is declared a runaway loop. */
const MAX_TIMERS_PER_ADVANCE = 20_000;
/** The worker client's per-attempt timeout (a poll adds its 999 ms block). */
const CLIENT_TIMEOUT_MS = 10_000;
/** The longest the end phase waits, in virtual time, for every worker to drain. */
const DRAIN_HORIZON_MS = 15 * 60_000;
/** After the workers are gone: past the longest lease (the server's default TTL, at most 120 s) and any reclaim. */
const LEASE_HORIZON_MS = 200_000;

interface SimWorker {
  readonly name: string;
  readonly clock: FreezableClock;
  readonly proxy: FaultProxy;
  readonly client: ObservedClient;
  readonly worker: Worker;
  shutdown: Promise<void> | null;
  finished: boolean;
}

/** A mulberry32 generator: the workers' jitter, reproducible from the run's seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A run: built by `start`, driven by the steps, checked by `finish` and `assertHealthy`, ended by `close`. */
export class Simulation {
  readonly #log: SimLog;
  readonly #journal = new Journal();
  readonly #invariants: Invariants;
  readonly #virtual: VirtualClock;
  readonly #network: TrackedClock;
  readonly #store: ObservedStore;
  readonly #activity = new Activity();
  readonly #workers: SimWorker[] = [];
  readonly #items: string[] = [];
  #cp: ControlPlane | null = null;
  #operator: WorkClient | null = null;
  #root = '';

  private constructor(plan: RunPlan) {
    this.#virtual = new VirtualClock(T0);
    this.#network = new TrackedClock(this.#virtual);
    this.#log = new SimLog(T0, () => this.#virtual.now());
    this.#invariants = new Invariants(this.#journal, this.#log);
    this.#store = new ObservedStore({
      clock: this.#network,
      lease: { minTtlSeconds: 10, maxTtlSeconds: 600, defaultTtlSeconds: plan.serverDefaultTtlSeconds },
    });
  }

  /** Starts the control plane and the workers, and lets their first polls park. */
  static async start(plan: RunPlan): Promise<Simulation> {
    const sim = new Simulation(plan);
    try {
      await sim.#start(plan);
    } catch (error) {
      await sim.close();
      throw error;
    }
    return sim;
  }

  async #start(plan: RunPlan): Promise<void> {
    const cp = await startControlPlane({ store: this.#store, clock: this.#network });
    this.#cp = cp;
    const environment = cp.environments[0];
    if (environment === undefined) throw new Error('the control plane has no environment');
    this.#operator = new WorkClient({ baseUrl: cp.url, environmentId: environment.id, apiKey: cp.adminKey, clock: this.#network, retry: { maxRetries: 0 } });
    this.#root = await mkdtemp(join(tmpdir(), 'envworker-faults-'));
    for (const [index, workerPlan] of plan.workers.entries()) {
      const name = `w${index}`;
      const clock = new FreezableClock(this.#network);
      const random = seededRandom(plan.seed + index);
      const proxy = new FaultProxy(cp.url, this.#network, (event) => this.#onProxy(name, event));
      const url = await proxy.listen();
      const client = new ObservedClient(
        { baseUrl: url, environmentId: environment.id, environmentKey: environment.key, clock, random, timeoutMs: CLIENT_TIMEOUT_MS },
        (call) => this.#onCall(name, call),
      );
      const worker = createWorker({
        baseUrl: url,
        environmentId: environment.id,
        environmentKey: environment.key,
        runtime: journaledRuntime(name, clock, this.#journal, this.#activity),
        client,
        maxConcurrency: workerPlan.maxConcurrency,
        pollers: workerPlan.pollers,
        workerId: name,
        leaseTtlSeconds: workerPlan.leaseTtlSeconds,
        stopGraceMs: workerPlan.stopGraceMs,
        logger: { level: 'silent' },
        clock,
        pollIdleDelayMs: [500, 2000],
        workdirRoot: join(this.#root, name),
        random,
      });
      worker.events$.subscribe((event) => this.#onWorkerEvent(name, event));
      this.#workers.push({ name, clock, proxy, client, worker, shutdown: null, finished: false });
      this.#log.add(name, `started: max ${workerPlan.maxConcurrency}, pollers ${workerPlan.pollers}, ttl ${workerPlan.leaseTtlSeconds}s, grace ${workerPlan.stopGraceMs}ms`);
      await worker.start();
    }
    this.#log.add('cp', `server default ttl ${plan.serverDefaultTtlSeconds}s`);
    await this.#settle();
  }

  // ---------------------------------------------------------------- steps

  async enqueue(kind: 'session' | 'healthcheck', durationMs: number): Promise<void> {
    const work = await this.#controlPlane().enqueue(kind === 'healthcheck' ? { data: { type: 'healthcheck' } } : { metadata: { [DURATION_KEY]: String(durationMs) } });
    this.#items.push(work.id);
    const name = this.#log.nameItem(work.id);
    this.#log.add('test', kind === 'healthcheck' ? `enqueue ${name} (healthcheck)` : `enqueue ${name} (works ${durationMs} ms)`);
    await this.#settle();
  }

  async advance(ms: number): Promise<void> {
    this.#log.add('test', `advance ${ms} ms`);
    await this.#runUntil(this.#virtual.now() + ms, () => false);
  }

  async operatorStop(itemIndex: number, force: boolean): Promise<void> {
    const workId = this.#items[itemIndex % this.#items.length];
    if (workId === undefined) return;
    const name = this.#log.item(workId);
    try {
      const work = await this.#operatorClient().stop(workId, { force });
      this.#log.add('op', `stop {force:${String(force)}} ${name} → 200 ${work.state}`);
      this.#invariants.operatorStop(workId, 200);
    } catch (error) {
      if (!(error instanceof WorkApiError) || error.status === null) throw error;
      this.#log.add('op', `stop {force:${String(force)}} ${name} → ${error.status}`);
      this.#invariants.operatorStop(workId, error.status);
    }
    await this.#settle();
  }

  inject(workerIndex: number, rule: FaultRule): void {
    const sim = this.#worker(workerIndex);
    sim.proxy.inject(rule);
    this.#log.add('test', `fault on ${sim.name}: next ${rule.count} ${rule.target} → ${rule.kind}${rule.kind === 'delayed_response' || rule.kind === 'status_429' ? ` (${rule.delayMs} ms)` : ''}`);
  }

  /**
   * Suspends a worker while the rest runs on: its timers wait and the answers to its requests are
   * held (see `FreezableClock` and `FaultProxy`).
   */
  freeze(workerIndex: number): void {
    const sim = this.#worker(workerIndex);
    this.#log.add('test', `freeze ${sim.name}`);
    sim.clock.freeze();
    sim.proxy.freeze();
  }

  /** Resumes a frozen worker: it runs its overdue timers and reads the held answers, in the given order. */
  async thaw(workerIndex: number, order: ThawOrder): Promise<void> {
    const sim = this.#worker(workerIndex);
    this.#log.add('test', `thaw ${sim.name}, ${order === 'timers_first' ? 'overdue timers first' : 'held answers first'}`);
    if (order === 'timers_first') {
      sim.clock.thaw();
      sim.proxy.thaw();
    } else {
      sim.proxy.thaw();
      await this.#settle();
      sim.clock.thaw();
    }
    await this.#settle();
  }

  /** Starts a worker's shutdown; it ends as the clock moves on. */
  async shutdown(workerIndex: number, mode: 'drain' | 'stop', deadlineMs: number): Promise<void> {
    const sim = this.#worker(workerIndex);
    this.#log.add('test', `shutdown ${sim.name} ${mode}${mode === 'drain' ? ` within ${deadlineMs} ms` : ''}`);
    this.#shutdown(sim, mode, deadlineMs);
    await this.#settle();
  }

  #shutdown(sim: SimWorker, mode: 'drain' | 'stop', deadlineMs: number): void {
    sim.shutdown = sim.worker.shutdown({ mode, deadlineMs }).then(() => {
      if (sim.finished) return;
      sim.finished = true;
      this.#log.add(sim.name, 'shutdown resolved');
      this.#invariants.workerShutDown(sim.name);
    });
  }

  /**
   * The end of a run: faults off, every worker drained, then the clock moved past every lease and
   * reclaim; then the end-of-run invariants.
   */
  async finish(): Promise<void> {
    this.#log.add('test', 'finish: faults off, thaw and drain every worker');
    for (const [index, sim] of this.#workers.entries()) {
      sim.proxy.clearRules();
      if (sim.clock.frozen) await this.thaw(index, 'timers_first');
    }
    for (const sim of this.#workers) {
      if (sim.shutdown === null) this.#shutdown(sim, 'drain', 20_000);
    }
    const allDone = (): boolean => this.#workers.every((sim) => sim.finished);
    await this.#runUntil(this.#virtual.now() + DRAIN_HORIZON_MS, allDone);
    for (const sim of this.#workers) {
      if (!sim.finished) {
        this.#invariants.violation(`${sim.name} did not finish its shutdown within ${DRAIN_HORIZON_MS} ms of virtual time: ${JSON.stringify(sim.worker.status())}`);
        continue;
      }
      const status = sim.worker.status();
      if (status.lifecycle !== 'stopped' || status.items.length > 0) {
        this.#invariants.violation(`${sim.name} shut down but reports ${JSON.stringify(status)}`);
      }
    }
    this.#log.add('test', `workers gone; advance ${LEASE_HORIZON_MS} ms past every lease`);
    await this.#runUntil(this.#virtual.now() + LEASE_HORIZON_MS, () => false);
    const states = new Map<string, WorkState>();
    const environmentId = this.#environmentId();
    for (const workId of this.#items) states.set(workId, (await this.#store.get(environmentId, workId)).state);
    this.#log.add('test', `final states: ${[...states].map(([id, state]) => `${this.#log.item(id)}=${state}`).join(' ')}`);
    this.#invariants.atEnd(states);
  }

  /** Throws, with the run's log, if any invariant was broken so far. */
  assertHealthy(): void {
    if (this.#invariants.violations.length === 0) return;
    throw new Error(`invariant broken:\n  ${this.#invariants.violations.join('\n  ')}\n\nlog of the run:\n${this.#log.render()}`);
  }

  /** Stops everything, whatever state the run is in. Never throws. */
  async close(): Promise<void> {
    for (const sim of this.#workers) {
      sim.proxy.clearRules();
      sim.proxy.thaw();
      sim.clock.thaw();
      if (!sim.finished) this.#shutdown(sim, 'stop', 0);
    }
    // Let the stops run their course where they can; a stuck run is simply abandoned.
    try {
      await this.#runUntil(this.#virtual.now() + DRAIN_HORIZON_MS, () => this.#workers.every((sim) => sim.finished));
    } catch {
      // The run already failed; closing must not hide why.
    }
    for (const sim of this.#workers) {
      await sim.proxy.close().catch(() => undefined);
      await sim.client.close().catch(() => undefined);
    }
    await this.#operator?.close().catch(() => undefined);
    await this.#cp?.close().catch(() => undefined);
    await this.#store.close().catch(() => undefined);
    if (this.#root !== '') await rm(this.#root, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- time and quiet

  /**
   * Moves the clock to `target` from one due timer to the next, settling after each, and stops
   * early once `done()` holds. Before time moves, no item may have two sandboxes running.
   */
  async #runUntil(target: number, done: () => boolean): Promise<void> {
    let fired = 0;
    await this.#settle();
    while (!done()) {
      const next = this.#network.nextDueAt();
      if (next === undefined || next > target) break;
      if (++fired > MAX_TIMERS_PER_ADVANCE) {
        throw new Error(`more than ${MAX_TIMERS_PER_ADVANCE} timers fired before ${this.#log.time(target)}: a runaway timer loop\n${this.#log.render(60)}`);
      }
      this.#moveTo(next);
      await this.#settle();
    }
    if (!done() && target > this.#virtual.now()) {
      this.#moveTo(target);
      await this.#settle();
    }
  }

  #moveTo(at: number): void {
    if (at > this.#virtual.now()) {
      this.#invariants.beforeTimeMoves(new Set(this.#workers.filter((sim) => sim.clock.frozen).map((sim) => sim.name)));
    }
    this.#virtual.advanceTo(at);
  }

  /**
   * Resolves once the system is quiet (see the file comment) and no timer is due at the current
   * time (one that is runs, and the quiet is awaited again); throws after a real-time deadline.
   */
  async #settle(): Promise<void> {
    const deadline = Date.now() + SETTLE_DEADLINE_MS;
    let quietTurns = 0;
    let logged = this.#log.size;
    for (;;) {
      if (Date.now() > deadline) {
        const why = this.#busy() ?? 'events or timers due now keep coming';
        throw new Error(`settle: not quiet after ${SETTLE_DEADLINE_MS} ms of real time (${why})\n${this.#log.render(60)}`);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#busy() !== null || this.#log.size !== logged) {
        quietTurns = 0;
        logged = this.#log.size;
        continue;
      }
      if (++quietTurns < QUIET_TURNS) continue;
      const next = this.#network.nextDueAt();
      if (next === undefined || next > this.#virtual.now()) return;
      this.#virtual.advanceTo(this.#virtual.now());
      quietTurns = 0;
    }
  }

  /** What is still in progress, or `null`. */
  #busy(): string | null {
    if (this.#activity.pending > 0) return `${this.#activity.pending} sandbox start(s) in progress`;
    let upstreamPolls = 0;
    for (const sim of this.#workers) {
      const { open, held, upstreamPolls: polls } = sim.proxy.stats();
      const calls = sim.client.active;
      if (calls !== open) return `${sim.name}: ${calls} call(s) in progress, ${open} at its proxy (${sim.proxy.describeOpen()})`;
      if (open !== held + polls) return `${sim.name}: ${open - held - polls} request(s) being served`;
      upstreamPolls += polls;
    }
    if (upstreamPolls !== this.#store.waitingPolls) return `${upstreamPolls} poll(s) forwarded, ${this.#store.waitingPolls} parked at the server`;
    return null;
  }

  // ---------------------------------------------------------------- observation

  #onWorkerEvent(worker: string, event: WorkerEvent): void {
    this.#invariants.workerEvent(worker, event);
    const item = 'work_id' in event ? ` ${this.#log.item(event.work_id)}` : '';
    const routine = event.type === 'lease_renewed' || event.type === 'poll_empty';
    let detail = '';
    if (event.type === 'stopped') detail = ` outcome=${event.outcome} stop_call=${event.stop_call}${event.exit ? ` exit=${event.exit.reason}` : ''}`;
    else if (event.type === 'lease_lost') detail = ` reason=${event.reason}`;
    else if (event.type === 'stopping') detail = ` outcome=${event.outcome}`;
    else if (event.type === 'poll_error') detail = ` status=${String(event.status)} ${event.error}`;
    else if (event.type === 'fatal') detail = ` ${event.error}`;
    this.#log.add(worker, `event ${event.type}${item}${detail}`, routine);
  }

  #onCall(worker: string, call: ClientCall): void {
    this.#invariants.workerCall(worker, call);
    const routine = call.op === 'poll' || call.op === 'heartbeat';
    const force = call.force === null ? '' : ` {force:${String(call.force)}}`;
    this.#log.add(worker, `call ${call.op}${force} ${this.#log.item(call.workId)}`, routine);
  }

  #onProxy(worker: string, event: ProxyEvent): void {
    const { exchange } = event;
    const what = `${exchange.op}${exchange.force === null ? '' : ` {force:${String(exchange.force)}}`} ${this.#log.item(exchange.workId)}`;
    switch (event.type) {
      case 'fault':
        this.#log.add('net', `${worker} ${what}: ${event.kind}`);
        return;
      case 'abandoned':
        this.#log.add('net', `${worker} ${what}: abandoned by the worker`, exchange.op === 'poll');
        return;
      case 'answered': {
        this.#invariants.serverAnswer(worker, exchange, event.status);
        const body = event.body as { state?: unknown; id?: unknown } | null;
        const state = typeof body?.state === 'string' ? ` ${body.state}` : '';
        const delivered = exchange.op === 'poll' && typeof body?.id === 'string' ? ` delivers ${this.#log.item(body.id)}` : '';
        const routine = event.status === 200 && (exchange.op === 'heartbeat' || (exchange.op === 'poll' && delivered === ''));
        this.#log.add('cp', `→ ${worker} ${what}: ${event.status}${state}${delivered}`, routine);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  #worker(index: number): SimWorker {
    const sim = this.#workers[index % this.#workers.length];
    if (sim === undefined) throw new Error('the run has no workers');
    return sim;
  }

  #controlPlane(): ControlPlane {
    if (this.#cp === null) throw new Error('the control plane is not running');
    return this.#cp;
  }

  #operatorClient(): WorkClient {
    if (this.#operator === null) throw new Error('the control plane is not running');
    return this.#operator;
  }

  #environmentId(): string {
    const environment = this.#controlPlane().environments[0];
    if (environment === undefined) throw new Error('the control plane has no environment');
    return environment.id;
  }
}
