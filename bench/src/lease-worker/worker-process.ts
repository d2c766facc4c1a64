/**
 * The worker process of the lease benchmarks: one envworker worker holding many leases, in a
 * process of its own so that its CPU time and RSS are its own. Started by `lease-worker-handle.ts`
 * (`node --conditions=@envworker/source --import tsx`, with IPC); it does only what the parent's
 * commands say (see `protocol.ts`).
 *
 * Each item runs in the function runtime as a function that waits until its signal aborts, so an
 * item is held until the worker shuts down. The worker logs only errors, so that what is measured
 * is the holding of leases, not the writing of log lines.
 */
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { createWorker, functionRuntime, type Worker, type WorkerEvent } from '@envworker/core';
import { percentile } from '../stats.js';
import type { ChildMessage, EndFigures, LeaseWorkerConfig, MemorySample, ParentMessage, WindowFigures } from './protocol.js';

const RSS_SAMPLE_MS = 1000;

/** Sends `message` to the parent; `then` runs once it is out. */
function send(message: ChildMessage, then: () => void = () => undefined): void {
  process.send?.(message, then);
}

/** Tells the parent what failed, then exits 1 once the message is out. */
function fail(error: unknown): void {
  send({ type: 'failed', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, () => process.exit(1));
}

/** Resolves when `signal` aborts: the whole of a held item's work. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** A measurement window: counters from its start, RSS sampled once a second. */
class MeasurementWindow {
  readonly #startedAt = performance.now();
  readonly #cpuAtStart = process.cpuUsage();
  readonly #lateness: number[] = [];
  #rssMax = process.memoryUsage.rss();
  readonly #sampler = setInterval(() => {
    this.#rssMax = Math.max(this.#rssMax, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 10 });
  #gcPauseTotalMs = 0;
  #gcPauseMaxMs = 0;
  readonly #gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.#gcPauseTotalMs += entry.duration;
      this.#gcPauseMaxMs = Math.max(this.#gcPauseMaxMs, entry.duration);
    }
  });

  constructor() {
    this.#loopDelay.enable();
    this.#gc.observe({ entryTypes: ['gc'] });
  }

  renewed(lateMs: number): void {
    this.#lateness.push(lateMs);
  }

  end(): Omit<WindowFigures, 'lostSoFar'> {
    clearInterval(this.#sampler);
    this.#loopDelay.disable();
    this.#gc.disconnect();
    const cpu = process.cpuUsage(this.#cpuAtStart);
    const wallMs = performance.now() - this.#startedAt;
    const rssEnd = process.memoryUsage.rss();
    if (this.#lateness.length === 0) throw new Error(`no lease was renewed in the ${Math.round(wallMs)} ms window`);
    return {
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      beats: this.#lateness.length,
      latenessP50Ms: percentile(this.#lateness, 50),
      latenessP99Ms: percentile(this.#lateness, 99),
      latenessMaxMs: this.#lateness.reduce((max, value) => Math.max(max, value), 0),
      rssMax: Math.max(this.#rssMax, rssEnd),
      rssEnd,
      // The histogram is in nanoseconds.
      loopDelayP99Ms: this.#loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: this.#loopDelay.max / 1e6,
      gcPauseTotalMs: this.#gcPauseTotalMs,
      gcPauseMaxMs: this.#gcPauseMaxMs,
    };
  }
}

/** The worker of this process and what it has seen. */
class LeaseHolder {
  readonly #config: LeaseWorkerConfig;
  readonly #worker: Worker;
  #started = 0;
  #held = false;
  #renewedSinceHeld = 0;
  #roundWaiter: (() => void) | null = null;
  #window: MeasurementWindow | null = null;
  #shuttingDown = false;
  readonly #ends = { leaseLostEvents: 0, endedOtherwise: 0, endedByShutdown: 0 };
  /** Ids of the items lost (a lost lease is usually also an item ended otherwise): each counted once. */
  readonly #lost = new Set<string>();
  readonly #lostReasons: Record<string, number> = {};

  constructor(config: LeaseWorkerConfig) {
    this.#config = config;
    this.#worker = createWorker({
      baseUrl: config.baseUrl,
      environmentId: config.environmentId,
      environmentKey: config.environmentKey,
      maxConcurrency: config.leases,
      pollers: config.pollers,
      pollIdleDelayMs: [0, 0],
      leaseTtlSeconds: config.leaseTtlSeconds,
      workdirRoot: config.workdirRoot,
      logger: { level: 'error' },
      runtime: functionRuntime((_work, ctx) => untilAborted(ctx.signal), { logLevel: 'error' }),
    });
    this.#worker.events$.subscribe((event) => this.#onEvent(event));
  }

  async start(): Promise<void> {
    await this.#worker.start();
  }

  #onEvent(event: WorkerEvent): void {
    switch (event.type) {
      case 'started':
        this.#started += 1;
        if (this.#started === this.#config.leases && !this.#held) {
          this.#held = true;
          send({ type: 'held' });
        }
        return;
      case 'lease_renewed':
        this.#window?.renewed(event.late_ms);
        if (this.#held) {
          this.#renewedSinceHeld += 1;
          if (this.#renewedSinceHeld >= this.#config.leases) this.#roundWaiter?.();
        }
        return;
      case 'lease_lost':
        this.#ends.leaseLostEvents += 1;
        this.#lostReasons[event.reason] = (this.#lostReasons[event.reason] ?? 0) + 1;
        this.#lost.add(event.work_id);
        return;
      case 'stopped':
        if (this.#shuttingDown && event.outcome === 'shutdown') {
          this.#ends.endedByShutdown += 1;
        } else {
          this.#ends.endedOtherwise += 1;
          this.#lost.add(event.work_id);
        }
        return;
      case 'fatal':
        fail(new Error(`worker failed: ${event.error}`));
        return;
      default:
        return;
    }
  }

  memory(): MemorySample {
    if (this.#config.gcBeforeSample) {
      if (typeof globalThis.gc !== 'function') throw new Error('gcBeforeSample needs node --expose-gc');
      globalThis.gc();
    }
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed };
  }

  beginWindow(): void {
    this.#window = new MeasurementWindow();
  }

  endWindow(): WindowFigures {
    if (this.#window === null) throw new Error('end_window without begin_window');
    const figures = this.#window.end();
    this.#window = null;
    return { ...figures, lostSoFar: this.#lost.size };
  }

  /** Resolves once every lease has been renewed once more since all were held. */
  afterRound(): Promise<void> {
    if (this.#renewedSinceHeld >= this.#config.leases) return Promise.resolve();
    return new Promise((resolve) => {
      this.#roundWaiter = () => {
        this.#roundWaiter = null;
        resolve();
      };
    });
  }

  /** Items lost so far, each counted once. */
  lost(): number {
    return this.#lost.size;
  }

  async shutdown(): Promise<EndFigures> {
    this.#shuttingDown = true;
    const lostBefore = this.#lost.size;
    const startedAt = performance.now();
    await this.#worker.shutdown({ mode: 'stop' });
    return {
      lost: this.#lost.size,
      lostInShutdown: this.#lost.size - lostBefore,
      lostReasons: { ...this.#lostReasons },
      shutdownMs: performance.now() - startedAt,
      ...this.#ends,
    };
  }
}

let holder: LeaseHolder | null = null;

function current(): LeaseHolder {
  if (holder === null) throw new Error('no worker yet: send start first');
  return holder;
}

async function handle(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case 'start': {
      holder = new LeaseHolder(message.config);
      await holder.start();
      await new Promise((resolve) => setTimeout(resolve, message.settleMs));
      send({ type: 'idle', memory: holder.memory() });
      return;
    }
    case 'begin_window':
      current().beginWindow();
      send({ type: 'window_started' });
      return;
    case 'end_window':
      send({ type: 'window', figures: current().endWindow() });
      return;
    case 'after_round': {
      const leases = current();
      await leases.afterRound();
      send({ type: 'round', memory: leases.memory(), lostSoFar: leases.lost() });
      return;
    }
    case 'shutdown': {
      const figures = await current().shutdown();
      // Exit once the answer is out: a normal exit, so that --cpu-prof writes its profile.
      send({ type: 'ended', figures }, () => process.exit(0));
      return;
    }
  }
}

if (process.send === undefined) {
  process.stderr.write('worker-process.ts is started by the lease benchmarks over IPC, not by hand\n');
  process.exit(2);
}
process.on('message', (message: ParentMessage) => {
  handle(message).catch(fail);
});
