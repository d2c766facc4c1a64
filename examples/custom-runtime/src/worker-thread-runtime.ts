/**
 * A runtime adapter written from scratch: each work item runs in its own `node:worker_threads`
 * thread. A thread is cheaper than a child process and, unlike the function runtime, it can be
 * killed even while it computes without yielding (`terminate()` stops its JavaScript wherever it
 * is), and a CPU-bound item does not hold up the heartbeats of the worker's event loop.
 *
 * The thread is a small process of its own as far as the program can tell: the work item JSON on
 * `process.stdin` then EOF, the `--on-work` variables as all of `process.env`, output on
 * `process.stdout` / `process.stderr`, and the polite signal as a `SIGTERM` event on `process`.
 * Only the working directory differs (threads share the process's), so it comes as
 * `workerData.workdir`.
 */
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { createWorkdir, errorCode, LineSplitter, removeWorkdir } from '@envworker/core';
import type { Sandbox, SandboxExit, SandboxLogSink, SandboxRuntime, SandboxSpec } from '@envworker/core';

/** Options of {@link workerThreadRuntime}. */
export interface WorkerThreadRuntimeOptions {
  /** The ES module each thread runs, as a `file:` URL. Plain JavaScript: threads get no TypeScript loader. */
  readonly program: URL;
  /** The runtime's name in the worker's logs; default `worker-thread`. */
  readonly name?: string;
  /** V8 heap limits of each thread; a thread that runs out of them ends with reason `limit`. */
  readonly resourceLimits?: ResourceLimits;
}

/** The polite signal as a message, and the thread's answer when the program keeps the default handling. */
const STOP = 'envworker:stop';
const DEFAULT_STOP = 'envworker:default-stop';
const MAX_LINE_BYTES = 16 * 1024;

/**
 * Runs in each thread before the program. The polite signal becomes a `SIGTERM` event on `process`,
 * so a program written for a child process (`process.on('SIGTERM', …)`) runs unchanged; a program
 * with no listener gets a process's default, the end (the thread asks to be terminated). The port
 * is unref'd so that it does not keep a finished program's thread alive.
 */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('message', (message) => {
  if (message !== '${STOP}') return;
  if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
  else parentPort.postMessage('${DEFAULT_STOP}');
});
parentPort.unref();
import(workerData.program);
`;

/** A runtime that runs each work item's `program` in a worker thread of this process. */
export function workerThreadRuntime(options: WorkerThreadRuntimeOptions): SandboxRuntime {
  if (!(options.program instanceof URL) || options.program.protocol !== 'file:') {
    throw new TypeError('workerThreadRuntime: program must be a file: URL of an ES module');
  }
  return {
    name: options.name ?? 'worker-thread',
    async start(spec, signal) {
      signal.throwIfAborted();
      await createWorkdir(spec.workdir); // refuses a directory that holds files: nothing to clean up then
      try {
        signal.throwIfAborted();
        return new ThreadSandbox(spec, options);
      } catch (error) {
        await removeWorkdir(spec.workdir);
        throw error;
      }
    },
  };
}

class ThreadSandbox implements Sandbox {
  readonly id: string;
  readonly exit: Promise<SandboxExit>;
  readonly #thread: Worker;
  /** The signal this runtime ended the thread with, if it did: it decides how the exit is reported. */
  #signal: 'SIGTERM' | 'SIGKILL' | null = null;
  #stopRequested = false;
  #exited = false;
  #graceTimer: NodeJS.Timeout | undefined;
  #fault: string | undefined;

  constructor(spec: SandboxSpec, options: WorkerThreadRuntimeOptions) {
    const startedAt = performance.now();
    this.#thread = new Worker(BOOTSTRAP, {
      eval: true,
      execArgv: [], // none of the host's flags or loaders
      env: { ...spec.env }, // the --on-work variables and nothing of the host's environment
      workerData: { program: options.program.href, workdir: spec.workdir },
      stdin: true,
      stdout: true,
      stderr: true,
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    });
    this.id = `thread-${this.#thread.threadId}`;
    const output = [lines(this.#thread.stdout, 'stdout', spec.log), lines(this.#thread.stderr, 'stderr', spec.log)];
    this.#thread.stdin?.end(spec.stdin);
    this.#thread.on('message', (message) => {
      if (message === DEFAULT_STOP) this.#terminate('SIGTERM');
    });
    this.#thread.on('error', (error: Error & { code?: string }) => {
      // The message goes to the log sink, whose logger scrubs credentials; the exit keeps only the kind.
      this.#fault = error.code ?? error.name;
      spec.log.line('stderr', `uncaught ${error.name}: ${error.message}`);
    });
    this.exit = new Promise((resolve) => {
      this.#thread.once('exit', (code) => {
        this.#exited = true;
        clearTimeout(this.#graceTimer);
        const durationMs = performance.now() - startedAt;
        const exit = this.#describe(code);
        void Promise.all(output)
          .then(() => removeWorkdir(spec.workdir))
          .then(
            () => resolve({ ...exit, durationMs }),
            (error: unknown) => {
              const fault = `workdir could not be removed (${errorCode(error)})`;
              resolve({ ...exit, durationMs, detail: exit.detail === undefined ? fault : `${exit.detail}; ${fault}` });
            },
          );
      });
    });
  }

  stop(graceMs: number): Promise<SandboxExit> {
    if (!(Number.isFinite(graceMs) && graceMs >= 0)) return Promise.reject(new RangeError('graceMs must be a finite number >= 0'));
    if (!this.#exited && !this.#stopRequested) {
      this.#stopRequested = true;
      this.#thread.postMessage(STOP);
      this.#graceTimer = setTimeout(() => this.#terminate('SIGKILL'), graceMs);
    }
    return this.exit;
  }

  kill(): Promise<SandboxExit> {
    this.#terminate('SIGKILL');
    return this.exit;
  }

  #terminate(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.#exited || this.#signal !== null) return;
    this.#signal = signal;
    void this.#thread.terminate();
  }

  #describe(code: number): Omit<SandboxExit, 'durationMs'> {
    if (this.#signal === 'SIGKILL') return { code: null, signal: 'SIGKILL', reason: 'killed' };
    if (this.#signal === 'SIGTERM') return { code: null, signal: 'SIGTERM', reason: 'stopped' };
    if (this.#fault === 'ERR_WORKER_OUT_OF_MEMORY') return { code: null, signal: null, reason: 'limit', detail: 'out of memory (resourceLimits)' };
    const reason = this.#stopRequested ? 'stopped' : 'exited';
    return this.#fault === undefined ? { code, signal: null, reason } : { code, signal: null, reason, detail: `uncaught ${this.#fault}` };
  }
}

/** Passes a thread's output stream to the log sink line by line; resolves once the stream has ended. */
function lines(stream: Readable, name: 'stdout' | 'stderr', log: SandboxLogSink): Promise<void> {
  const splitter = new LineSplitter(MAX_LINE_BYTES, (line) => log.line(name, line));
  stream.on('data', (chunk: Buffer) => splitter.push(chunk));
  return finished(stream).then(
    () => splitter.end(),
    () => splitter.end(),
  );
}
