/**
 * Runs the launcher as a real process with the package's own `start` script (read from package.json,
 * so the test runs exactly what the README tells people to run), and waits on its output lines
 * with deadlines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** Every wait on the launcher gives up after this long. */
export const DEADLINE_MS = 15_000;

/** The `start` script's argv, with `node` replaced by this Node binary. */
function startCommand(): string[] {
  const manifest = JSON.parse(readFileSync(`${PACKAGE_DIR}package.json`, 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = manifest.scripts.start.split(' ');
  if (node !== 'node') throw new Error(`the start script should run node, not ${String(node)}`);
  return args;
}

/** How the launcher process ended. */
export interface LauncherExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string[];
  readonly stderr: string;
}

/** A running launcher. */
export interface LauncherProcess {
  readonly child: ChildProcess;
  /** Resolves with the `nth` (default first) stdout line, already printed or still to come, that matches. */
  line(pattern: RegExp, what: string, nth?: number): Promise<RegExpExecArray>;
  /** Resolves when it has exited, within the deadline. */
  exited(): Promise<LauncherExit>;
}

/** Starts the launcher with `args`; `env` replaces the variables named in it. */
export function startLauncher(args: readonly string[], env: Record<string, string | undefined> = {}): LauncherProcess {
  const child = spawn(process.execPath, [...startCommand(), ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let pending = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (pending + chunk).split('\n');
    pending = parts.pop() ?? '';
    stdout.push(...parts);
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<LauncherExit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });

  return {
    child,
    line(pattern, what, nth = 1) {
      return within(
        new Promise<RegExpExecArray>((resolve) => {
          const check = (): void => {
            const match = matching(stdout, pattern)[nth - 1];
            if (match === undefined) return;
            waiters.delete(check);
            resolve(match);
          };
          waiters.add(check);
          check();
        }),
        what,
        () => `stdout so far:\n${stdout.join('\n')}\nstderr:\n${stderr}`,
      );
    },
    exited: () => within(exit, 'the exit', () => `stdout so far:\n${stdout.join('\n')}\nstderr:\n${stderr}`),
  };
}

/** Resolves with `promise`, or rejects naming `what` (and showing the output) after {@link DEADLINE_MS}. */
function within<T>(promise: Promise<T>, what: string, output: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${DEADLINE_MS} ms; ${output()}`)), DEADLINE_MS);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** The matches of `pattern` (a pattern without the `g` flag) among `lines`, in order. */
export function matching(lines: readonly string[], pattern: RegExp): RegExpExecArray[] {
  return lines.map((line) => pattern.exec(line)).filter((match): match is RegExpExecArray => match !== null);
}
