/**
 * The launcher's command line, checked up front so that a mistake is one line naming the flag
 * (exit 2) before a control plane or a container starts.
 */
import { parseArgs } from 'node:util';

/** The image build-image.sh builds. */
export const SESSION_IMAGE = 'envworker-example/node-session:latest';

/** The checked options. */
export interface LaunchOptions {
  /** Work items to enqueue; one container each. */
  readonly items: number;
  /** Containers at once. */
  readonly concurrency: number;
  /** The image of the session containers: it needs node and sh. */
  readonly image: string;
  /** The run must end within this long, else the containers are stopped and it exits 1. */
  readonly deadlineMs: number;
}

export const USAGE = `Usage: launch [flags]

Starts a local control plane, enqueues work items, and serves them the sandbox-per-session way: a
handover poller claims and acks each item and runs on-work.sh for it, which starts one container
whose entrypoint is \`envworker run\` (it holds the item's lease and stops the item). Needs Docker
and the image that build-image.sh builds.

Flags:
  --items <n>         items to enqueue and serve, 1-50 (default 4)
  --concurrency <n>   containers at once, 1-8 (default 2)
  --image <name>      image of the containers (default ${SESSION_IMAGE})
  --deadline <s>      give up (stop the containers, exit 1) after this many seconds, 10-3600 (default 120)
  --help              print this help
`;

/** A bad command line: one line on standard error, exit status 2. */
export class UsageError extends Error {}

/** Parses and checks the flags; `'help'` for `--help`. Throws a {@link UsageError} naming the flag. */
export function parseLaunchOptions(argv: readonly string[]): LaunchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        items: { type: 'string' },
        concurrency: { type: 'string' },
        image: { type: 'string' },
        deadline: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) return 'help';
  const image = values.image ?? SESSION_IMAGE;
  if (!/^[a-z0-9][\w./:@-]*$/.test(image)) throw new UsageError('--image: must be an image reference such as envworker-example/node-session:latest');
  return {
    items: integer('--items', values.items ?? '4', 1, 50),
    concurrency: integer('--concurrency', values.concurrency ?? '2', 1, 8),
    image,
    deadlineMs: integer('--deadline', values.deadline ?? '120', 10, 3600) * 1000,
  };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${flag}: must be an integer between ${min} and ${max}`);
  return value;
}
