/**
 * The operator commands against a real control plane: `enqueue` (with the admin key), `stats`,
 * `list`, `get`, `stop` and `update`, as tables and as `--json`; and their failures as one line
 * naming what to fix.
 */
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './support/harness.js';

let cp: ControlPlane;
let withKey: Record<string, string>;
let withAdmin: Record<string, string>;

beforeAll(async () => {
  cp = await startControlPlane();
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  const base = { ANTHROPIC_BASE_URL: cp.url, ANTHROPIC_ENVIRONMENT_ID: environment.id };
  withKey = { ...base, ANTHROPIC_ENVIRONMENT_KEY: environment.key };
  withAdmin = { ...base, ENVWORKER_API_KEY: cp.adminKey };
});

afterAll(() => cp.close());

/** Runs a command that must succeed; returns its standard output. */
async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const run = runInProcess(args, env);
  const status = await run.exit;
  expect(run.stderr.text).toBe('');
  expect(status).toBe(0);
  return run.stdout.text;
}

/** Runs a command that must fail with `status`; returns its one line on standard error. */
async function fails(args: readonly string[], env: Record<string, string>, status = 2): Promise<string> {
  const run = runInProcess(args, env);
  expect(await run.exit).toBe(status);
  expect(run.stdout.text).toBe('');
  const lines = run.stderr.text.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

describe('operator commands', () => {
  it('enqueue makes items with metadata, as a table or as JSON', async () => {
    const table = await ok(['enqueue', '--count', '2', '--metadata', 'team=blue', 'note=a=b', 'empty='], withAdmin);
    const rows = table.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID\s+STATE\s+TYPE\s+DATA ID\s+CREATED\s+LAST HEARTBEAT\s+METADATA$/);
    expect(rows).toHaveLength(3);
    for (const row of rows.slice(1)) expect(row).toMatch(/^work_\w{24}\s+queued\s+session\s+sesn_\w{24}\s+\S+Z\s+-\s+team=blue note=a=b empty=$/);

    const created = JSON.parse(await ok(['enqueue', '--json', '--api-key', cp.adminKey], { ...withKey })) as Record<string, unknown>[];
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ type: 'work', state: 'queued', metadata: {} });
    expect(created[0]).not.toHaveProperty('secret');
  });

  it('stats, list and get read the queue with the environment key or the admin key', async () => {
    const stats = JSON.parse(await ok(['stats', '--json'], withKey)) as Record<string, unknown>;
    expect(stats).toMatchObject({ type: 'work_queue_stats', depth: 3, pending: 0 });
    expect(await ok(['stats'], withAdmin)).toMatch(/^depth\s+3\npending\s+0\noldest queued\s+\S+Z\nworkers polling\s+0\n$/);

    const listed = JSON.parse(await ok(['list', '--json'], withKey)) as { id: string; created_at: string }[];
    expect(listed).toHaveLength(3);
    expect([...listed].sort((a, b) => b.created_at.localeCompare(a.created_at))).toEqual(listed);
    const firstPage = await ok(['list', '--limit', '2'], withAdmin);
    expect(firstPage.trimEnd().split('\n')).toHaveLength(4);
    expect(firstPage).toContain('(more items: use --all)');
    const all = JSON.parse(await ok(['list', '--all', '--limit', '2', '--json'], withKey)) as { id: string }[];
    expect(all.map((work) => work.id)).toEqual(listed.map((work) => work.id));

    const id = listed[0]?.id as string;
    const shown = await ok(['get', id], withKey);
    expect(shown).toMatch(new RegExp(`^id\\s+${id}\\n`));
    expect(shown).toMatch(/\nstate\s+queued\n/);
    expect(JSON.parse(await ok(['get', id, '--json'], withAdmin))).toMatchObject({ id, state: 'queued' });
  });

  it('update sets and deletes metadata keys; stop stops, and stopping again is no error', async () => {
    const [work] = JSON.parse(await ok(['enqueue', '--json', '--metadata', 'keep=1', 'drop=2'], withAdmin)) as { id: string }[];
    const id = work?.id as string;
    const updated = JSON.parse(await ok(['update', id, 'added=3', 'drop=', '--json'], withKey)) as { metadata: Record<string, string> };
    expect(updated.metadata).toEqual({ keep: '1', added: '3' });
    expect(await ok(['update', id, 'keep=one'], withKey)).toMatch(/\nmetadata\s+keep=one added=3\n/);

    expect(await ok(['stop', id, '--force'], withKey)).toBe(`${id}: stopped\n`);
    expect(JSON.parse(await ok(['stop', id, '--json'], withAdmin))).toMatchObject({ id, state: 'stopped' });
  });

  it('names what to fix when it fails', async () => {
    expect(await fails(['enqueue'], withKey)).toBe(
      "envworker enqueue: enqueue needs the control plane's admin key: set --api-key or ENVWORKER_API_KEY (the admin_key of `envworker control-plane`'s ready line)",
    );
    const { ANTHROPIC_ENVIRONMENT_KEY: _key, ...noCredential } = withKey;
    expect(await fails(['stats'], noCredential)).toBe(
      'envworker stats: missing a credential: set --environment-key or ANTHROPIC_ENVIRONMENT_KEY, or --api-key or ENVWORKER_API_KEY',
    );
    expect(await fails(['get', 'work_nonexistent'], withKey)).toMatch(/^envworker get: not found \(get: 404 not_found_error: .*\); check --environment-id/);
    const refused = await fails(['list'], { ...withKey, ANTHROPIC_ENVIRONMENT_KEY: 'ek_wrong_key_for_this_environment' });
    expect(refused).toMatch(/refused the credential \(list: 401 authentication_error: .*\); check --environment-key or ANTHROPIC_ENVIRONMENT_KEY$/);
    expect(refused).not.toContain('ek_wrong_key_for_this_environment');
    expect(await fails(['update', 'work_x', 'novalue'], withKey)).toBe('envworker update: update: "novalue" is not key=value');
    expect(await fails(['enqueue', '--count', '0'], withAdmin)).toBe('envworker enqueue: --count: must be a whole number from 1 to 10000, got "0"');
    expect(await fails(['get'], withKey)).toBe("envworker get: missing required argument 'work_id' (see envworker get --help)");
  });

  it('reports a control plane that is not there as one line, exit 2', async () => {
    const gone = await startControlPlane();
    const url = gone.url;
    await gone.close();
    expect(await fails(['stats'], { ...withKey, ANTHROPIC_BASE_URL: url })).toBe(
      `envworker stats: cannot reach ${url}: connection refused; is the control plane running?`,
    );
  });
});
