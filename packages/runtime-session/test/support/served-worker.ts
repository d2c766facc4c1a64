/**
 * A worker serving sessions from a real local control plane over HTTP: `createWorker` with the
 * session runtime, its events and log lines kept, and waits on them with deadlines.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorker, type Worker, type WorkerEvent, type WorkItemOutcome } from '@envworker/core';
import type { ControlPlane } from '@envworker/control-plane';
import { sessionRuntime, type SessionRuntime, type SessionRuntimeOptions, type ToolCallRecord } from '../../src/index.js';

const STOP_ROUTE = '/v1/environments/:environmentId/work/:workId/stop';

/** A running worker with the session runtime, and what it did. */
export class ServedWorker {
  readonly worker: Worker;
  readonly runtime: SessionRuntime;
  readonly events: WorkerEvent[] = [];
  readonly calls: ToolCallRecord[] = [];
  readonly logLines: string[] = [];
  readonly workdirRoot: string;
  #waiters: (() => void)[] = [];

  private constructor(cp: ControlPlane, workdirRoot: string, maxConcurrency: number, options: SessionRuntimeOptions) {
    const environment = cp.environments[0];
    if (environment === undefined) throw new Error('the control plane has no environment');
    this.workdirRoot = workdirRoot;
    this.runtime = sessionRuntime(options);
    this.runtime.toolCalls$.subscribe((call) => {
      this.calls.push(call);
      this.#wake();
    });
    this.worker = createWorker({
      baseUrl: cp.url,
      environmentId: environment.id,
      environmentKey: environment.key,
      runtime: this.runtime,
      maxConcurrency,
      pollIdleDelayMs: [0, 50],
      leaseTtlSeconds: 10,
      stopGraceMs: 5_000,
      workdirRoot,
      logger: { level: 'debug', format: 'json', destination: { write: (line: string) => void this.logLines.push(line) } },
    });
    this.worker.events$.subscribe((event) => {
      this.events.push(event);
      this.#wake();
    });
  }

  /** Starts a worker with `maxConcurrency` slots and the runtime `options`. */
  static async start(cp: ControlPlane, maxConcurrency: number, options: SessionRuntimeOptions = {}): Promise<ServedWorker> {
    const root = await mkdtemp(join(tmpdir(), 'envworker-sessions-'));
    const served = new ServedWorker(cp, root, maxConcurrency, options);
    await served.worker.start();
    return served;
  }

  /** The outcome of each of `workIds` once all have stopped; rejects after `deadlineMs` naming those still running. */
  async outcomes(workIds: readonly string[], deadlineMs: number): Promise<Map<string, WorkItemOutcome>> {
    const found = (): Map<string, WorkItemOutcome> => {
      const map = new Map<string, WorkItemOutcome>();
      for (const event of this.events) if (event.type === 'stopped' && workIds.includes(event.work_id)) map.set(event.work_id, event.outcome);
      return map;
    };
    await this.until(() => found().size === workIds.length, deadlineMs, () => `items still running: ${workIds.filter((id) => !found().has(id)).join(', ')}`);
    return found();
  }

  /** The `stopped` events of one item. */
  stoppedEvents(workId: string): Extract<WorkerEvent, { type: 'stopped' }>[] {
    return this.events.filter((event): event is Extract<WorkerEvent, { type: 'stopped' }> => event.type === 'stopped' && event.work_id === workId);
  }

  /** Resolves once `done()` holds (checked at each worker event and tool call, and every 50 ms for the file system). */
  until(done: () => boolean | Promise<boolean>, deadlineMs: number, what: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const check = async (): Promise<void> => {
        if (settled || !(await done())) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(poll);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== wake);
        resolve();
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        settled = true;
        clearInterval(poll);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== wake);
        reject(new Error(`timed out after ${deadlineMs} ms: ${what()}`));
      }, deadlineMs);
      const poll = setInterval(wake, 50);
      this.#waiters.push(wake);
      wake();
    });
  }

  /** The work directory the worker made for `workId`, or `null` before it exists. */
  async workdirOf(workId: string): Promise<string | null> {
    const names = await readdir(this.workdirRoot).catch(() => [] as string[]);
    const name = names.find((entry) => entry.startsWith(`${workId}-`));
    return name === undefined ? null : join(this.workdirRoot, name);
  }

  async close(): Promise<void> {
    await this.worker.shutdown({ mode: 'stop' });
    await this.runtime.close();
    await rm(this.workdirRoot, { recursive: true, force: true });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** Stop calls the control plane answered 200 so far (from its /metrics). */
export async function stopCalls(cp: ControlPlane): Promise<number> {
  const text = await (await fetch(`${cp.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('envworker_control_plane_requests_total{')) continue;
    if (line.includes(`route="${STOP_ROUTE}"`) && line.includes('method="POST"') && line.includes('status="200"')) total += Number(line.split(' ').at(-1));
  }
  return total;
}
