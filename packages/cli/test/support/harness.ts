/**
 * What the CLI's tests share: the CLI run in-process with captured streams, the CLI run as a real
 * process (the way the root script runs it, or through its launcher) with its output read line
 * by line, temporary directories, and waits with deadlines (never a fixed sleep).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runCli, type CliContext } from '../../src/index.js';
import { within } from '@envworker/core/conformance';

export { within };

/** The CLI's TypeScript entry, and its launcher. */
export const CLI_ENTRY = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));
export const CLI_LAUNCHER = fileURLToPath(new URL('../../bin/envworker.js', import.meta.url));
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));


/** Resolves once `check` holds, looking again every 20 ms; rejects naming `what` after `deadlineMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 5000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A writable stream that keeps what is written to it. */
export class Capture extends Writable {
  text = '';
  readonly isTTY = false;

  constructor() {
    super({
      write: (chunk: Buffer | string, _encoding, callback) => {
        this.text += chunk.toString();
        callback();
      },
    });
  }
}

/** An in-process run of the CLI: its streams, its signal source, and its exit status when it ends. */
export interface InProcessRun {
  readonly stdout: Capture;
  readonly stderr: Capture;
  /** Emit `SIGTERM` or `SIGINT` on it to signal the command. */
  readonly signals: EventEmitter;
  readonly exit: Promise<number>;
}

/** Runs the CLI in this process with its own streams, variables and signals. */
export function runInProcess(argv: readonly string[], env: Record<string, string | undefined> = {}, cwd = REPOSITORY_ROOT): InProcessRun {
  const stdout = new Capture();
  const stderr = new Capture();
  const signals = new EventEmitter();
  const context: CliContext = {
    env,
    cwd,
    stdout,
    stderr,
    signals,
    exitNow: (code) => {
      throw new Error(`exitNow(${code}) is for a real process`);
    },
  };
  return { stdout, stderr, signals, exit: runCli(argv, context) };
}

/** A CLI process: its lines so far, and waits on them. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout = '';
  stderr = '';
  readonly #waiters = new Set<() => void>();

  /**
   * Starts `envworker <args>` as the root script does (`node --conditions=@envworker/source
   * --import tsx src/bin.ts`), or through `bin/envworker.js` with `launcher`.
   */
  constructor(args: readonly string[], options: { env?: Record<string, string | undefined>; launcher?: boolean } = {}) {
    const entry = options.launcher === true ? [CLI_LAUNCHER] : ['--conditions=@envworker/source', '--import', 'tsx', CLI_ENTRY];
    this.child = spawn(process.execPath, [...entry, ...args], {
      cwd: REPOSITORY_ROOT,
      env: { PATH: process.env['PATH'], ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.#wake();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.#wake();
    });
    this.exit = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
    void this.exit.then(() => this.#wake());
  }

  /** The JSON log lines on standard output so far. */
  records(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Resolves with the first JSON log record that `match` accepts (looking at those already there first). */
  async record(what: string, match: (record: Record<string, unknown>) => boolean, ms = 15_000): Promise<Record<string, unknown>> {
    return within(
      new Promise((resolve, reject) => {
        const look = (): void => {
          const found = this.records().find(match);
          if (found !== undefined) {
            this.#waiters.delete(look);
            resolve(found);
          } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
            this.#waiters.delete(look);
            reject(new Error(`the CLI exited before ${what}; stderr: ${this.stderr}`));
          }
        };
        this.#waiters.add(look);
        look();
      }),
      ms,
      what,
    );
  }

  /** Like {@link until}, but fails at once, with what the CLI printed, if it exits first. */
  async until(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 15_000): Promise<void> {
    await until(
      what,
      async () => {
        if (await check()) return true;
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          throw new Error(`the CLI exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}; stderr: ${this.stderr}`);
        }
        return false;
      },
      deadlineMs,
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** A temporary directory, removed by `remove()`. */
export class TempDir {
  path = '';

  async create(prefix: string): Promise<string> {
    this.path = await mkdtemp(join(tmpdir(), `envworker-cli-${prefix}-`));
    return this.path;
  }

  async remove(): Promise<void> {
    if (this.path !== '') await rm(this.path, { recursive: true, force: true });
  }
}
