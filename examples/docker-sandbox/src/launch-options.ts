/**
 * The launcher's command line, checked up front so that a mistake is reported by name (one line,
 * exit 2) before a control plane or a container starts.
 */
import { parseArgs } from 'node:util';
import { TEST_IMAGE } from './sandbox.js';

/** The checked options of the launcher. */
export interface LaunchOptions {
  /** Work items to enqueue and serve. */
  readonly items: number;
  /** Containers at once. */
  readonly concurrency: number;
  /** The image of every container. */
  readonly image: string;
  /** How long a drain (first SIGINT or SIGTERM) lets running containers finish before they are stopped. */
  readonly drainMs: number;
}

export const USAGE = `Usage: launch [flags]

Starts a local control plane, enqueues work items, and serves them with a worker that runs each
one in its own container (network none, 64 MiB, 32 processes). Needs a Docker daemon.

Flags:
  --items <n>         items to enqueue and serve, 1-200 (default 6)
  --concurrency <n>   containers at once, 1-8 (default 3)
  --image <name>      image of the containers (default ENVWORKER_IMAGE, else ${TEST_IMAGE});
                      it needs sh, sed, cat and ls
  --drain-ms <ms>     after SIGINT or SIGTERM, let running containers finish this long, 0-600000
                      (default 10000); a second signal stops them at once
  --help              print this help
`;

/** A bad command line: reported as one line, exit status 2. */
export class UsageError extends Error {}

/** Parses and checks the flags; `'help'` for `--help`. Throws a {@link UsageError} naming the flag. */
export function parseLaunchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): LaunchOptions | 'help' {
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
        'drain-ms': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) return 'help';
  const image = values.image ?? env['ENVWORKER_IMAGE'] ?? TEST_IMAGE;
  if (!/^[\x21-\x7e]+$/.test(image)) throw new UsageError('--image: must be an image name such as busybox:1.36');
  return {
    items: integer('--items', values.items ?? '6', 1, 200),
    concurrency: integer('--concurrency', values.concurrency ?? '3', 1, 8),
    image,
    drainMs: integer('--drain-ms', values['drain-ms'] ?? '10000', 0, 600_000),
  };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${flag}: must be an integer between ${min} and ${max}`);
  return value;
}
