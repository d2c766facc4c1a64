/**
 * The cases of benchmark 4 (claim latency and sandbox start cost). Each run of a case starts an
 * in-process control plane (memory store) on 127.0.0.1 and real workers, takes its samples one
 * item at a time per worker, and closes everything.
 */
import { functionRuntime, type SandboxRuntime } from '@envworker/core';
import { startControlPlane } from '@envworker/control-plane';
import { dockerRuntime } from '@envworker/runtime-docker';
import { processRuntime } from '@envworker/runtime-process';
import type { SuiteSettings } from './benchmark.js';
import { probedWorker, probeOnce, type ClaimSample, type ProbedWorker } from './claim-probe.js';
import { pollersFor } from './side-by-side.js';
import { timedRuntime } from './timed-runtime.js';
import { sleep } from './wait.js';

/** Pause after each item so the next long poll is waiting at the server before the next enqueue. */
export const IDLE_GAP_MS = 20;
/** Workers sampled at once in the default-idle-delay case, each on its own environment (each sample takes seconds). */
export const DEFAULT_DELAY_WORKERS = 10;
/**
 * Items enqueued at a uniformly random moment in this window after the worker's first empty poll:
 * about one whole idle cycle (at most 3 000 ms of pause, then a 999 ms long poll).
 */
export const ARRIVAL_WINDOW_MS = 4000;
/** The busy worker: slots, and items it already holds (long ones, until the end of the run). */
export const BUSY = { maxConcurrency: 16, held: 12, leaseTtlSeconds: 10 } as const;
/** The Docker case's image: built by scripts/build-test-image.sh. */
export const DOCKER_IMAGE = 'envworker-test/busybox:latest';

export interface ClaimCase {
  /** Short name, the `case` parameter of its row. */
  readonly name: string;
  readonly params: Readonly<Record<string, number | string>>;
  /** Samples of one run. */
  samples(settings: SuiteSettings): number;
  /** `null` when the case can run here, else why not (it is then not measured). */
  unavailable(): Promise<string | null>;
  /** One run of `samples` samples. */
  run(samples: number): Promise<ClaimSample[]>;
}

const noop = (): SandboxRuntime => functionRuntime(() => undefined, { logLevel: 'error' });

/** `samples` sequential probes of one worker with one slot and one long poll, idle delay 0. */
async function oneSlotRun(makeRuntime: () => SandboxRuntime, samples: number): Promise<ClaimSample[]> {
  const cp = await startControlPlane();
  const environment = cp.environments[0]!;
  const probed = probedWorker({ cp, environment, runtime: timedRuntime(makeRuntime()), maxConcurrency: 1, pollers: 1, pollIdleDelayMs: [0, 0] });
  const out: ClaimSample[] = [];
  await probed.worker.start();
  try {
    for (let i = 0; i < samples; i += 1) {
      await sleep(IDLE_GAP_MS);
      out.push(await probeOnce(cp, probed, environment.id));
    }
  } finally {
    await probed.worker.shutdown({ mode: 'stop' });
    await cp.close();
  }
  return out;
}

/** Samples per worker: `samples` spread over `workers` as evenly as can be. */
function spread(samples: number, workers: number): number[] {
  return Array.from({ length: workers }, (_, i) => Math.floor(samples / workers) + (i < samples % workers ? 1 : 0));
}

/** Default idle delay: items arrive at random moments while each worker idles. */
async function defaultDelayRun(samples: number): Promise<ClaimSample[]> {
  const workers = Math.min(DEFAULT_DELAY_WORKERS, samples);
  const cp = await startControlPlane({ environments: Array.from({ length: workers }, () => ({})) });
  const probes: { probed: ProbedWorker; environmentId: string; samples: number }[] = spread(samples, workers).map((count, i) => {
    const environment = cp.environments[i]!;
    return { probed: probedWorker({ cp, environment, runtime: timedRuntime(noop()), maxConcurrency: 1, pollers: 1 }), environmentId: environment.id, samples: count };
  });
  const out: ClaimSample[] = [];
  try {
    await Promise.all(
      probes.map(async ({ probed, environmentId, samples: count }) => {
        let idle = probed.nextEmptyPoll();
        await probed.worker.start();
        for (let i = 0; i < count; i += 1) {
          // Idle: its first poll after the last item came back empty and its pause began.
          await idle;
          await sleep(Math.random() * ARRIVAL_WINDOW_MS);
          out.push(await probeOnce(cp, probed, environmentId));
          if (i + 1 < count) idle = probed.nextEmptyPoll();
        }
      }),
    );
  } finally {
    await Promise.all(probes.map(({ probed }) => probed.worker.shutdown({ mode: 'stop' })));
    await cp.close();
  }
  return out;
}

/** Waits for `signal` to abort. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** A busy worker: it holds `BUSY.held` long items (heartbeating them) and has free slots with long polls waiting. */
async function busyRun(samples: number): Promise<ClaimSample[]> {
  const cp = await startControlPlane();
  const environment = cp.environments[0]!;
  const runtime = timedRuntime(functionRuntime((work, ctx) => (work.metadata['hold'] === 'yes' ? aborted(ctx.signal) : undefined), { logLevel: 'error' }));
  const probed = probedWorker({
    cp,
    environment,
    runtime,
    maxConcurrency: BUSY.maxConcurrency,
    pollers: pollersFor(BUSY.maxConcurrency),
    pollIdleDelayMs: [0, 0],
    leaseTtlSeconds: BUSY.leaseTtlSeconds,
  });
  const out: ClaimSample[] = [];
  await probed.worker.start();
  try {
    const held = await Promise.all(Array.from({ length: BUSY.held }, () => cp.enqueue({ metadata: { bench: 'claim-latency', hold: 'yes' } })));
    await Promise.all(held.map((work) => probed.when('started', work.id)));
    for (let i = 0; i < samples; i += 1) {
      await sleep(IDLE_GAP_MS);
      out.push(await probeOnce(cp, probed, environment.id));
    }
  } finally {
    await probed.worker.shutdown({ mode: 'stop' });
    await cp.close();
  }
  return out;
}

const always = async (): Promise<null> => null;
const sized =
  (full: number, quick: number) =>
  (settings: SuiteSettings): number =>
    settings.items ?? (settings.quick ? quick : full);

const trueProcess = (): SandboxRuntime => processRuntime({ command: ['true'] });
const trueContainer = (): SandboxRuntime => dockerRuntime({ image: DOCKER_IMAGE, imagePolicy: 'never', command: ['true'] });

/** The cases, in report order. */
export const CLAIM_CASES: readonly ClaimCase[] = [
  {
    name: 'idle, delay 0',
    params: { runtime: 'function', max_concurrency: 1, held: 0, idle_delay_ms: '0' },
    samples: sized(300, 100),
    unavailable: always,
    run: (samples) => oneSlotRun(noop, samples),
  },
  {
    name: 'idle, default delay',
    params: { runtime: 'function', max_concurrency: 1, held: 0, idle_delay_ms: '1000–3000' },
    samples: sized(60, 10),
    unavailable: always,
    run: defaultDelayRun,
  },
  {
    name: 'busy',
    params: { runtime: 'function', max_concurrency: BUSY.maxConcurrency, held: BUSY.held, idle_delay_ms: '0' },
    samples: sized(300, 50),
    unavailable: always,
    run: busyRun,
  },
  {
    name: 'process runtime',
    params: { runtime: 'process (true)', max_concurrency: 1, held: 0, idle_delay_ms: '0' },
    samples: sized(200, 30),
    unavailable: always,
    run: (samples) => oneSlotRun(trueProcess, samples),
  },
  {
    name: 'docker runtime',
    params: { runtime: 'docker (true)', max_concurrency: 1, held: 0, idle_delay_ms: '0' },
    samples: sized(50, 5),
    async unavailable() {
      try {
        await trueContainer().prepare?.();
        return null;
      } catch (error) {
        const why = (error as Error).message;
        return /image/i.test(why) ? `${why} (scripts/build-test-image.sh builds ${DOCKER_IMAGE})` : why;
      }
    },
    run: (samples) => oneSlotRun(trueContainer, samples),
  },
];
