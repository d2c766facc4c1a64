/**
 * The quickstart's command line, checked up front so that a mistake is one line naming the flag
 * (exit 2) before anything starts.
 */
import { parseArgs } from 'node:util';

/** The checked options. */
export interface QuickstartOptions {
  /** Work items to enqueue and serve. */
  readonly items: number;
  /** Sessions at once. */
  readonly concurrency: number;
  /** The whole run must end within this long, else it stops everything and exits 1. */
  readonly deadlineMs: number;
  /** Draw the CLI's live view (only when standard output is a terminal). */
  readonly live: boolean;
}

export const USAGE = `Usage: pnpm quickstart [flags]

Starts a local control plane with its session simulator, enqueues work items whose scripted
agents call the agent toolset (write, bash, edit, read, glob, grep), and serves their sessions
with a worker (session runtime). On the way an operator stops one item mid bash call. Ends with
a summary of outcomes and tool results; exit 0 when everything went as expected.

Flags:
  --items <n>         items to enqueue and serve, 1-500 (default 20)
  --concurrency <n>   sessions served at once, 1-32 (default 4)
  --deadline <s>      give up (stop everything, exit 1) after this many seconds, 10-3600 (default 120)
  --no-live           plain progress lines even on a terminal
  --help              print this help
`;

/** A bad command line: one line on standard error, exit status 2. */
export class UsageError extends Error {}

/** Parses and checks the flags; `'help'` for `--help`. Throws a {@link UsageError} naming the flag. */
export function parseQuickstartOptions(argv: readonly string[]): QuickstartOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      allowNegative: true,
      options: {
        items: { type: 'string' },
        concurrency: { type: 'string' },
        deadline: { type: 'string' },
        live: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) return 'help';
  return {
    items: integer('--items', values.items ?? '20', 1, 500),
    concurrency: integer('--concurrency', values.concurrency ?? '4', 1, 32),
    deadlineMs: integer('--deadline', values.deadline ?? '120', 10, 3600) * 1000,
    live: values.live ?? true,
  };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${flag}: must be an integer between ${min} and ${max}`);
  return value;
}
