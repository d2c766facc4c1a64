/**
 * The host's command line. Every flag is checked here, so a mistake is reported by name (one line,
 * exit 2) before anything starts. The environment key is read only from the environment: a flag's
 * value would show in the process list.
 */
import { parseArgs } from 'node:util';

/** Where the work comes from. */
export type WorkSource =
  /** A control plane this host starts itself, with `items` work items enqueued in it. */
  | { readonly kind: 'local'; readonly items: number }
  /** A Work API that is already running; `items` ended items end the run (`null`: run until a signal). */
  | {
      readonly kind: 'remote';
      readonly baseUrl: string;
      readonly environmentId: string;
      readonly environmentKey: string;
      readonly items: number | null;
    };

/** The checked options of the host. */
export interface HostOptions {
  readonly source: WorkSource;
  /** Items run at once. */
  readonly concurrency: number;
  /** Leading zero hex digits the proof of work must find. */
  readonly difficulty: number;
  /** Each item takes at least this long (a session that outlives its computation). */
  readonly itemMs: number;
  /** How long a drain (first SIGINT or SIGTERM) lets running items finish before they are stopped. */
  readonly drainMs: number;
}

export const USAGE = `Usage: host [flags]

Runs an envworker worker embedded in this program. Each work item computes a small proof of work
over its session id (read from its --on-work environment), checked against the item JSON it reads
as standard input. The first SIGINT or SIGTERM drains; a second one stops at once.

Flags:
  --items <n>          items to enqueue in the local control plane (default 6); with --base-url,
                       end after this many items (default: run until a signal)
  --concurrency <n>    items at once, 1-64 (default 3)
  --difficulty <n>     leading zero hex digits of the proof of work, 0-5 (default 3)
  --item-ms <ms>       each item takes at least this long, 0-600000 (default 0)
  --drain-ms <ms>      drain deadline after a signal, 0-600000 (default 10000)
  --base-url <url>     serve this Work API instead of starting a local control plane; then the
                       environment comes from --environment-id or ANTHROPIC_ENVIRONMENT_ID and
                       its key from ANTHROPIC_ENVIRONMENT_KEY
  --environment-id <id>
  --help               print this help
`;

/** A bad command line: reported as one line, exit status 2. */
export class UsageError extends Error {}

/** Parses and checks the flags; `'help'` for `--help`. Throws a {@link UsageError} naming the flag. */
export function parseHostOptions(argv: readonly string[], env: NodeJS.ProcessEnv): HostOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        items: { type: 'string' },
        concurrency: { type: 'string' },
        difficulty: { type: 'string' },
        'item-ms': { type: 'string' },
        'drain-ms': { type: 'string' },
        'base-url': { type: 'string' },
        'environment-id': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) return 'help';

  const items = values.items === undefined ? null : integer('--items', values.items, 1, 10_000);
  const common = {
    concurrency: integer('--concurrency', values.concurrency ?? '3', 1, 64),
    difficulty: integer('--difficulty', values.difficulty ?? '3', 0, 5),
    itemMs: integer('--item-ms', values['item-ms'] ?? '0', 0, 600_000),
    drainMs: integer('--drain-ms', values['drain-ms'] ?? '10000', 0, 600_000),
  };
  const baseUrl = values['base-url'];
  if (baseUrl === undefined) {
    if (values['environment-id'] !== undefined) throw new UsageError('--environment-id: only with --base-url');
    return { ...common, source: { kind: 'local', items: items ?? 6 } };
  }
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    throw new UsageError('--base-url: must be an absolute http: or https: URL');
  }
  const environmentId = values['environment-id'] ?? env['ANTHROPIC_ENVIRONMENT_ID'];
  if (environmentId === undefined || !/^env_[0-9A-Za-z]+$/.test(environmentId)) {
    throw new UsageError('--environment-id: set it, or ANTHROPIC_ENVIRONMENT_ID, to the env_… id of the environment');
  }
  const environmentKey = env['ANTHROPIC_ENVIRONMENT_KEY'];
  if (environmentKey === undefined || !/^[\x21-\x7e]+$/.test(environmentKey)) {
    throw new UsageError('ANTHROPIC_ENVIRONMENT_KEY: set it to the environment key (visible ASCII characters)');
  }
  return { ...common, source: { kind: 'remote', baseUrl, environmentId, environmentKey, items } };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${flag}: must be an integer between ${min} and ${max}`);
  return value;
}
