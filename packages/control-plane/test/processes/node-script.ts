/**
 * A TypeScript script of these tests run as a real, separate node process (`node
 * --conditions=@envworker/source --import tsx <script>`, as the repository's own scripts run), with
 * its standard output read as JSON lines and waits on those lines with deadlines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from '@envworker/core/conformance';

/** The repository root: the scripts run from there, where `tsx` resolves. */
const REPOSITORY_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** How the process ended. */
export interface ScriptExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One script process: its JSON lines so far, waits on them, and signals. */
export class NodeScript {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly exit: Promise<ScriptExit>;
  readonly lines: Record<string, unknown>[] = [];
  #partial = '';
  #closed = false;
  stderr = '';
  readonly #waiters = new Set<() => void>();

  /**
   * Starts `script` (a path relative to this folder) with `args`; `env` is the child's whole
   * environment besides `PATH`, so nothing of the test runner's leaks in.
   */
  constructor(name: string, script: string, args: readonly string[], env: Record<string, string> = {}) {
    this.name = name;
    const entry = fileURLToPath(new URL(script, import.meta.url));
    this.#child = spawn(process.execPath, ['--conditions=@envworker/source', '--import', 'tsx', entry, ...args], {
      cwd: REPOSITORY_ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.#read(chunk));
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exit = new Promise((resolve) =>
      this.#child.on('close', (code, signal) => {
        this.#closed = true;
        resolve({ code, signal });
        this.#wake();
      }),
    );
  }

  /** Whether the process has ended and everything it wrote has been read. */
  get ended(): boolean {
    return this.#closed;
  }

  /**
   * Resolves once `check` holds, looked at after every new line; rejects naming `what` (and what
   * the process wrote on standard error) after `ms`, or at once if the process ends first.
   */
  async until(what: string, check: () => boolean, ms: number): Promise<void> {
    let look: () => void = () => undefined;
    const waiting = new Promise<void>((resolve, reject) => {
      look = (): void => {
        if (check()) resolve();
        else if (this.ended) reject(new Error(`${this.name} ended before ${what}; stderr: ${this.stderr.slice(-2000)}`));
      };
      this.#waiters.add(look);
      look();
    });
    try {
      await within(waiting, ms, `${this.name}: ${what}`);
    } finally {
      this.#waiters.delete(look);
    }
  }

  /** Resolves with the first line that `match` accepts (see {@link until}). */
  async line(what: string, match: (line: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> {
    await this.until(what, () => this.lines.some(match), ms);
    return this.lines.find(match) as Record<string, unknown>;
  }

  /** Signals the process (nothing happens once it has exited). */
  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  #read(chunk: string): void {
    const text = this.#partial + chunk;
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      try {
        this.lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        this.stderr += `(a line on standard output was not JSON: ${part.slice(0, 200)})\n`;
      }
    }
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
