/**
 * One run of the lease benchmarks up to the moment a worker process holds N leases: a control
 * plane in its own process (memory store), the worker process started and sampled while idle,
 * then N items queued and claimed. What the run does while they are held is the benchmark's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startControlPlaneProcess, type ControlPlaneProcess } from '../infra/control-plane-process.js';
import { startLeaseWorkerProcess, type LeaseWorkerProcess } from './lease-worker-handle.js';
import type { EndFigures, MemorySample } from './protocol.js';

/** Most long polls the worker keeps out while it ramps up. */
export const MAX_LEASE_POLLERS = 32;
/** Requests at once that queue the items. */
const ENQUEUE_PARALLEL = 32;
/** How long the worker runs idle (polling an empty queue) before its idle sample. */
const SETTLE_MS = 1000;
const START_DEADLINE_MS = 30_000;
const SHUTDOWN_DEADLINE_MS = 180_000;

export interface HoldOptions {
  readonly leases: number;
  readonly leaseTtlSeconds: number;
  /** Start the worker process with `--expose-gc` and collect before every memory sample. */
  readonly gcBeforeSample: boolean;
}

export interface HeldLeases {
  readonly worker: LeaseWorkerProcess;
  /** The worker process idle (started, polling an empty queue), before it claimed anything. */
  readonly idle: MemorySample;
  /** From the first item queued to the last item's sandbox up. */
  readonly rampMs: number;
  /** Shuts the worker down (`mode: 'stop'`), closes the control plane, and says how the items ended. */
  finish(): Promise<EndFigures>;
  /** Kills the worker process without a shutdown and closes the control plane (once nothing more is measured). */
  abandon(): Promise<void>;
}

/** The long polls for `leases`: enough to ramp up in seconds, never more than the slots. */
export function leasePollers(leases: number): number {
  return Math.min(MAX_LEASE_POLLERS, leases);
}

/** How long the ramp may take: claiming, acking and a first beat per item, with a generous margin. */
function rampDeadlineMs(leases: number): number {
  return 60_000 + leases * 30;
}

/** Starts the processes and resolves once the worker holds `leases` leases; cleans up if it cannot. */
export async function holdLeases(options: HoldOptions): Promise<HeldLeases> {
  const workdirRoot = await mkdtemp(join(tmpdir(), 'envworker-bench-leases-'));
  let cp: ControlPlaneProcess | null = null;
  let worker: LeaseWorkerProcess | null = null;
  const cleanUp = async (): Promise<void> => {
    await worker?.exited(0);
    await cp?.close();
    await rm(workdirRoot, { recursive: true, force: true });
  };
  try {
    cp = await startControlPlaneProcess({ store: 'memory' });
    worker = startLeaseWorkerProcess({ exposeGc: options.gcBeforeSample });
    const config = {
      baseUrl: cp.url,
      environmentId: cp.environmentId,
      environmentKey: cp.environmentKey,
      leases: options.leases,
      pollers: leasePollers(options.leases),
      leaseTtlSeconds: options.leaseTtlSeconds,
      workdirRoot,
      gcBeforeSample: options.gcBeforeSample,
    };
    const { memory: idle } = await worker.request({ type: 'start', config, settleMs: SETTLE_MS }, 'idle', START_DEADLINE_MS + SETTLE_MS);
    const rampStartedAt = performance.now();
    const held = worker.request(null, 'held', rampDeadlineMs(options.leases));
    await cp.enqueue(options.leases, { bench: 'leases' }, ENQUEUE_PARALLEL);
    await held;
    const rampMs = performance.now() - rampStartedAt;
    const running = worker;
    return {
      worker: running,
      idle,
      rampMs,
      async finish() {
        try {
          const { figures } = await running.request({ type: 'shutdown' }, 'ended', SHUTDOWN_DEADLINE_MS);
          await running.exited(10_000);
          return figures;
        } finally {
          await cleanUp();
        }
      },
      abandon: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
