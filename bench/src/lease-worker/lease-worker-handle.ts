/**
 * The parent's side of the lease benchmarks' worker process (`worker-process.ts`): starts it with
 * IPC, sends commands and waits for their answers with a deadline. A message that comes before
 * anyone waits for it (the unasked `held`) is kept until asked for; a `failed` message or an exit
 * fails every wait, present and future.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildMessage, ParentMessage } from './protocol.js';

const BENCH_ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(import.meta.dirname, 'worker-process.ts');

/** Set to a directory to write a V8 CPU profile of every worker process there (`--cpu-prof`). */
export const CPU_PROFILE_DIR_VARIABLE = 'ENVWORKER_BENCH_CPU_PROF';

type Answer<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

interface Waiter {
  readonly type: ChildMessage['type'];
  readonly resolve: (message: ChildMessage) => void;
  readonly reject: (error: Error) => void;
}

export interface LeaseWorkerProcess {
  readonly pid: number;
  /** Sends `message` (if any) and resolves with the next message of type `type`, within `deadlineMs`. */
  request<T extends ChildMessage['type']>(message: ParentMessage | null, type: T, deadlineMs: number): Promise<Answer<T>>;
  /** Resolves when the process has exited; SIGKILLs it if it has not within `graceMs`. */
  exited(graceMs: number): Promise<void>;
}

export interface LeaseWorkerProcessOptions {
  /** Start it with `--expose-gc`, for memory samples after a full collection. */
  readonly exposeGc: boolean;
}

/** Forks the worker process (`node --conditions=@envworker/source --import tsx`). */
export function startLeaseWorkerProcess(options: LeaseWorkerProcessOptions): LeaseWorkerProcess {
  const profileDir = process.env[CPU_PROFILE_DIR_VARIABLE];
  const execArgv = [
    '--conditions=@envworker/source',
    '--import',
    'tsx',
    ...(options.exposeGc ? ['--expose-gc'] : []),
    ...(profileDir === undefined || profileDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
  ];
  const child: ChildProcess = fork(SCRIPT, [], { cwd: BENCH_ROOT, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const inbox: ChildMessage[] = [];
  const waiters = new Set<Waiter>();
  let failure: Error | null = null;
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const waiter of waiters) waiter.reject(failure);
    waiters.clear();
  };
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'failed') return failAll(new Error(`lease worker process failed: ${message.error}`));
    for (const waiter of waiters) {
      if (waiter.type !== message.type) continue;
      waiters.delete(waiter);
      return waiter.resolve(message);
    }
    inbox.push(message);
  });
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      failAll(new Error(`lease worker process exited (${signal ?? String(code)}): ${output.trim().slice(-500)}`));
      resolve();
    });
  });

  return {
    pid: child.pid!,
    request<T extends ChildMessage['type']>(message: ParentMessage | null, type: T, deadlineMs: number): Promise<Answer<T>> {
      return new Promise<Answer<T>>((resolve, reject) => {
        if (failure !== null) return reject(failure);
        const waiting = inbox.findIndex((received) => received.type === type);
        if (waiting >= 0) return resolve(inbox.splice(waiting, 1)[0] as Answer<T>);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`lease worker process: no ${type} within ${deadlineMs} ms`));
        }, deadlineMs);
        const waiter: Waiter = {
          type,
          resolve: (answer) => {
            clearTimeout(timer);
            resolve(answer as Answer<T>);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        waiters.add(waiter);
        if (message !== null) child.send(message);
      });
    },
    async exited(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
