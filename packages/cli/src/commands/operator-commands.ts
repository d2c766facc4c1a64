/**
 * The operator commands, against any Work API: `enqueue` (the local control plane's extension),
 * `stats`, `list`, `get`, `stop` and `update`. Each prints a readable table, or with `--json` the
 * API's objects as JSON (never an item's `secret`).
 *
 * Credentials: `stats`, `list`, `get`, `stop` and `update` take the environment key
 * (`--environment-key` / ANTHROPIC_ENVIRONMENT_KEY) or an operator key (`--api-key` /
 * ENVWORKER_API_KEY: the local control plane's admin key, or an organization API key for the
 * hosted API), the environment key first when both are set. `enqueue` needs the operator key.
 */
import { WorkApiError, WorkClient, type EnqueueParams, type MetadataPatch, type Work } from '@envworker/core';
import { describeApiError } from '../api-error-message.js';
import type { CliContext } from '../cli-context.js';
import { CliError } from '../cli-error.js';
import { CONNECTION_OPTIONS, MISSING_ENVIRONMENT_ID } from '../config/connection-options.js';
import { boolean, headerToken, integer } from '../config/option-spec.js';
import { option, resolveOptions } from '../config/resolve-options.js';
import { formatStats, formatWork, formatWorkTable, workJson } from '../output/work-format.js';

export const OPERATOR_OPTIONS = {
  ...CONNECTION_OPTIONS,
  apiKey: option({
    key: 'api-key',
    kind: 'value',
    placeholder: '<key>',
    description: "an operator key sent as x-api-key: the local control plane's admin key, or an organization API key",
    env: 'ENVWORKER_API_KEY',
    secret: true,
    parse: headerToken('an API key'),
  }),
  json: option({ key: 'json', kind: 'switch', description: 'print JSON instead of a table', parse: boolean, defaultValue: false }),
} as const;

const MISSING_CREDENTIAL = 'missing a credential: set --environment-key or ANTHROPIC_ENVIRONMENT_KEY, or --api-key or ENVWORKER_API_KEY';
const MISSING_API_KEY =
  "enqueue needs the control plane's admin key: set --api-key or ENVWORKER_API_KEY (the admin_key of `envworker control-plane`'s ready line)";

/** The client and output settings of one operator command. */
interface Session {
  readonly client: WorkClient;
  readonly json: boolean;
  readonly context: CliContext;
}

/** What each command does with its session; resolves with the exit status. */
export type OperatorAction = (session: Session) => Promise<number>;

/**
 * Runs an operator command: resolves the connection (flags > environment), makes the client,
 * and reports an API failure as one line naming what to fix.
 */
export async function runOperator(
  flags: ReadonlyMap<string, unknown>,
  context: CliContext,
  needs: 'any-credential' | 'api-key',
  action: OperatorAction,
): Promise<number> {
  const { values } = resolveOptions(OPERATOR_OPTIONS, { flags, env: context.env, file: null });
  if (values.environmentId === undefined) throw new CliError(MISSING_ENVIRONMENT_ID);
  if (needs === 'api-key' && values.apiKey === undefined) throw new CliError(MISSING_API_KEY);
  if (values.apiKey === undefined && values.environmentKey === undefined) throw new CliError(MISSING_CREDENTIAL);
  // enqueue sends the operator key only; the others send the environment key when there is one.
  const useEnvironmentKey = needs === 'any-credential' && values.environmentKey !== undefined;
  const client = new WorkClient({
    baseUrl: values.baseUrl,
    environmentId: values.environmentId,
    ...(useEnvironmentKey ? { environmentKey: values.environmentKey } : { apiKey: values.apiKey }),
    retry: { maxRetries: 1 },
  });
  const credentialHint = useEnvironmentKey ? '--environment-key or ANTHROPIC_ENVIRONMENT_KEY' : '--api-key or ENVWORKER_API_KEY';
  try {
    return await action({ client, json: values.json, context });
  } catch (error) {
    throw describeApiError(error, {
      baseUrl: values.baseUrl,
      credentialHint,
      notFoundHint: `check --environment-id (${values.environmentId}) and the work id`,
    });
  } finally {
    await client.close();
  }
}

function print(session: Session, json: unknown, text: string): number {
  session.context.stdout.write(session.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  return 0;
}

/** `k=v` pairs: `k=v` sets a value; `k=` sets an empty value (enqueue) or deletes the key (update). */
export function parsePairs(pairs: readonly string[], what: string, emptyMeans: 'empty' | 'delete'): MetadataPatch {
  const patch: MetadataPatch = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`${what}: ${JSON.stringify(pair)} is not key=value`);
    const value = pair.slice(at + 1);
    patch[pair.slice(0, at)] = value === '' && emptyMeans === 'delete' ? null : value;
  }
  return patch;
}

/** `enqueue [--count N] [--metadata k=v…] [--script <file>]`; `script` is the body's `session` (the simulator's script). */
export function enqueueAction(count: number, metadata: Readonly<Record<string, string>>, script?: Readonly<Record<string, unknown>>): OperatorAction {
  return async (session) => {
    const created: Work[] = [];
    for (let index = 0; index < count; index += 1) {
      created.push(await session.client.enqueue({ metadata, ...(script === undefined ? {} : { session: script as NonNullable<EnqueueParams['session']> }) }));
    }
    return print(session, created.map(workJson), formatWorkTable(created));
  };
}

export const statsAction: OperatorAction = async (session) => {
  const stats = await session.client.stats();
  return print(session, stats, formatStats(stats));
};

/** `list [--all] [--limit N]`: the newest page, or every item. */
export function listAction(all: boolean, limit: number | undefined): OperatorAction {
  return async (session) => {
    const items: Work[] = [];
    let more = false;
    if (all) {
      for await (const work of session.client.listAll(limit === undefined ? {} : { limit })) items.push(work);
    } else {
      const page = await session.client.list(limit === undefined ? {} : { limit });
      items.push(...page.data);
      more = page.next_page !== null;
    }
    const text = items.length === 0 ? '(no work items)' : formatWorkTable(items);
    return print(session, items.map(workJson), more ? `${text}\n(more items: use --all)` : text);
  };
}

/** `get <work_id>`. */
export function getAction(workId: string): OperatorAction {
  return async (session) => {
    const work = await session.client.get(workId);
    return print(session, workJson(work), formatWork(work));
  };
}

/** `stop <work_id> [--force]`: asks the holder to stop, or with `--force` stops it at once. Already stopped is success. */
export function stopAction(workId: string, force: boolean): OperatorAction {
  return async (session) => {
    let work: Work;
    try {
      work = await session.client.stop(workId, { force });
    } catch (error) {
      if (!(error instanceof WorkApiError && error.status === 409)) throw error;
      work = await session.client.get(workId);
    }
    return print(session, workJson(work), `${work.id}: ${work.state}`);
  };
}

/** `update <work_id> k=v k=`: sets and deletes metadata keys. */
export function updateAction(workId: string, patch: MetadataPatch): OperatorAction {
  return async (session) => {
    const work = await session.client.update(workId, patch);
    return print(session, workJson(work), formatWork(work));
  };
}

/** `--count`: how many items to enqueue. */
export const countOption = option({
  key: 'count',
  kind: 'value',
  placeholder: '<n>',
  description: 'how many items to enqueue',
  parse: integer(1, 10_000),
  defaultValue: 1,
});

/** `--limit`: the page size of `list`. */
export const limitOption = option({
  key: 'limit',
  kind: 'value',
  placeholder: '<n>',
  description: 'items per page (1–100)',
  parse: integer(1, 100),
});
