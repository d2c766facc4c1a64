/**
 * `createWorker` with the worker-thread runtime against a local control plane: items complete in
 * threads, and a shutdown stops an item whose program computes without ever yielding, by
 * terminating its thread once the grace has run out.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorker, type Worker, type WorkerEvent } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { workerThreadRuntime } from '../src/worker-thread-runtime.js';

const DEADLINE_MS = 10_000;
const HASH_CHAIN = new URL('../src/programs/hash-chain.mjs', import.meta.url);

let controlPlane: ControlPlane | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.shutdown({ mode: 'stop' });
  await controlPlane?.close();
  worker = undefined;
  controlPlane = undefined;
});

/** Things that arrive over time, and a way to wait (with a deadline) until enough of them match. */
class Recording<T> {
  readonly all: T[] = [];
  readonly #waiters = new Set<() => void>();

  add(item: T): void {
    this.all.push(item);
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves with the first `count` items (recorded already or still to come) that pass `predicate`. */
  waitFor(predicate: (item: T) => boolean, count: number, what: string): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${what}: fewer than ${count} within ${DEADLINE_MS} ms`));
      }, DEADLINE_MS);
      const check = (): void => {
        const matching = this.all.filter(predicate);
        if (matching.length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(matching.slice(0, count));
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/** Starts a control plane with `items` (their metadata) and a worker on the thread runtime serving it. */
async function serve(items: readonly Record<string, string>[], stopGraceMs = 10_000) {
  controlPlane = await startControlPlane();
  const [environment] = controlPlane.environments;
  if (environment === undefined) throw new Error('no environment');
  for (const metadata of items) await controlPlane.enqueue({ metadata });
  const output = new Recording<{ workId: string; text: string }>();
  const events = new Recording<WorkerEvent>();
  worker = createWorker({
    baseUrl: controlPlane.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    maxConcurrency: 2,
    pollers: 2,
    pollIdleDelayMs: [0, 0],
    stopGraceMs,
    runtime: workerThreadRuntime({ program: HASH_CHAIN }),
    logger: {
      level: 'info',
      destination: {
        write(line: string) {
          const record = JSON.parse(line) as { msg: string; work_id?: string; sandbox_stream?: string };
          if (record.sandbox_stream !== undefined) output.add({ workId: record.work_id ?? '', text: record.msg });
        },
      },
    },
  });
  worker.events$.subscribe((event) => events.add(event));
  await worker.start();
  return { worker, output, events };
}

describe('createWorker with the worker-thread runtime', () => {
  it('completes items, each thread reading its own item and environment', async () => {
    const { output, events } = await serve([{ rounds: '100' }, { rounds: '200' }, { rounds: '300' }]);
    const stopped = await events.waitFor((event) => event.type === 'stopped', 3, 'stopped items');
    expect(stopped.map((event) => (event.type === 'stopped' ? event.outcome : null))).toEqual(['completed', 'completed', 'completed']);

    const sessions = new Map(events.all.flatMap((event) => (event.type === 'claimed' ? [[event.work_id, event.session_id]] : [])));
    const chains = output.all.filter(({ text }) => text.startsWith('chain '));
    expect(chains).toHaveLength(3);
    for (const { workId, text } of chains) {
      const match = /^chain (sesn_\w+) x(\d+) = ([0-9a-f]{64})$/.exec(text);
      expect(match?.[1]).toBe(sessions.get(workId));
      let digest = match?.[1] ?? '';
      for (let round = 0; round < Number(match?.[2]); round += 1) digest = createHash('sha256').update(digest).digest('hex');
      expect(match?.[3]).toBe(digest);
    }
    expect(new Set(chains.map(({ text }) => text.split(' ')[2]))).toEqual(new Set(['x100', 'x200', 'x300']));
  });

  it('a shutdown terminates a thread that computes without yielding once the grace has run out', async () => {
    const { worker: running, output, events } = await serve([{ rounds: String(Number.MAX_SAFE_INTEGER) }], 200);
    // The program prints this line just before its loop: from then on its thread cannot hear the polite signal.
    await output.waitFor(({ text }) => /^computing \d+ rounds$/.test(text), 1, 'computing line');
    const began = performance.now();
    await running.shutdown({ mode: 'stop' });
    // The runtime's own grace timer ended it: the worker's fallback kill would come 5 s after the grace.
    expect(performance.now() - began).toBeLessThan(3000);
    const [event] = await events.waitFor((candidate) => candidate.type === 'stopped', 1, 'stopped item');
    expect(event).toMatchObject({ type: 'stopped', outcome: 'shutdown', exit: { code: null, signal: 'SIGKILL', reason: 'killed' } });
    expect(event?.type === 'stopped' ? event.exit?.durationMs : 0).toBeGreaterThanOrEqual(200 - 25);
  });
});
