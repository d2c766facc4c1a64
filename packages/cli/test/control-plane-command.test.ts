/**
 * `envworker control-plane`, which the root script `pnpm --silent control-plane` now runs: the
 * same ready line, API, clean exits on SIGTERM and SIGINT, and exit 2 for a bad flag as the
 * control-plane package's own bin (its test's cases, run here against this command).
 */
import { describe, expect, it } from 'vitest';
import { CliProcess, runInProcess, until, within } from './support/harness.js';

const DEADLINE_MS = 20_000;

function firstLine(text: string): string | undefined {
  const end = text.indexOf('\n');
  return end < 0 ? undefined : text.slice(0, end);
}

describe('envworker control-plane', () => {
  it('as a process: prints one ready line, serves the API, exits 0 on SIGTERM with nothing else on stdout', async () => {
    const cli = new CliProcess(['control-plane']);
    try {
      await until('the ready line', () => firstLine(cli.stdout) !== undefined, DEADLINE_MS);
      const ready = JSON.parse(firstLine(cli.stdout) as string) as Record<string, string>;
      expect(Object.keys(ready)).toEqual(['url', 'environment_id', 'environment_key', 'admin_key']);
      expect(ready['url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready['environment_id']).toMatch(/^env_[0-9A-Za-z]{24}$/);
      const base = `${ready['url']}/v1/environments/${ready['environment_id']}`;
      const enqueued = await fetch(`${base}/work`, { method: 'POST', headers: { 'x-api-key': ready['admin_key'] as string, 'content-type': 'application/json' }, body: '{}' });
      expect(enqueued.status).toBe(201);
      const stats = await fetch(`${base}/work/stats`, { headers: { authorization: `Bearer ${ready['environment_key']}` } });
      expect(await stats.json()).toMatchObject({ depth: 1 });
    } finally {
      cli.kill('SIGTERM');
    }
    expect((await within(cli.exit, DEADLINE_MS, 'the exit')).code).toBe(0);
    expect(cli.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('uses the credentials and id it is given, and exits 0 on SIGINT', async () => {
    const id = 'env_ABCDEFGHIJKLMNOPQRSTUVWX';
    const run = runInProcess([
      'control-plane', '--host', '127.0.0.1', '--port', '0', '--store', 'memory',
      '--environment-id', id, '--environment-key', 'given-environment-key', '--admin-key', 'given-admin-key-0001',
    ]);
    await until('the ready line', () => firstLine(run.stdout.text) !== undefined, DEADLINE_MS);
    const ready = JSON.parse(firstLine(run.stdout.text) as string) as Record<string, string>;
    expect(ready).toMatchObject({ environment_id: id, environment_key: 'given-environment-key', admin_key: 'given-admin-key-0001' });
    const stats = await fetch(`${ready['url']}/v1/environments/${id}/work/stats`, { headers: { authorization: 'Bearer given-environment-key' } });
    expect(stats.status).toBe(200);
    run.signals.emit('SIGINT');
    expect(await within(run.exit, DEADLINE_MS, 'the exit')).toBe(0);
  });

  it.each([
    [['--port', '70000'], '--port'],
    [['--port', 'eighty'], '--port'],
    [['--environment-id', 'env_short'], '--environment-id'],
    [['--environment-key', 'short'], '--environment-key'],
    [['--admin-key', 'with a space 0123456'], '--admin-key'],
    [['--admin-key', 'same-key-for-both-0001', '--environment-key', 'same-key-for-both-0001'], '--admin-key: must differ'],
    [['--store', 'redis'], '--store redis: needs --redis-url'],
    [['--store', 'files'], '--store: must be one of memory, redis'],
    [['--redis-url', 'redis://127.0.0.1:6379'], '--redis-url: applies to --store redis only'],
    // Nothing listens on port 9 of loopback: the store cannot connect, which is a setting to fix.
    [['--store', 'redis', '--redis-url', 'redis://127.0.0.1:9'], '--redis-url: redis store: cannot connect to redis://127.0.0.1:9'],
    [['--redis-cluster', 'redis://127.0.0.1:9'], '--redis-cluster: applies to --store redis only'],
    [['--store', 'redis', '--redis-url', 'redis://127.0.0.1:9', '--redis-cluster', 'redis://127.0.0.1:9'], '--redis-cluster: give --redis-url or'],
    [['--store', 'redis', '--redis-cluster', 'redis://127.0.0.1:9,http://127.0.0.1:10'], '--redis-cluster'],
    [['--store', 'redis', '--redis-cluster', 'redis://127.0.0.1:9/3'], '--redis-cluster: redis.cluster.nodes[0]: a Redis Cluster has database 0 only'],
    [['--store', 'redis', '--redis-cluster', 'redis://127.0.0.1:9'], '--redis-cluster: redis store: cannot connect to the Redis Cluster at 127.0.0.1:9'],
    [['--verbose'], '--verbose'],
    [['--port'], '--port'],
  ])('exits 2 for %j with one line on stderr naming %s', async (args, flag) => {
    const run = runInProcess(['control-plane', ...args]);
    expect(await run.exit).toBe(2);
    expect(run.stdout.text).toBe('');
    const lines = run.stderr.text.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(flag);
    expect(lines[0]).not.toContain('same-key-for-both');
  });

  it('prints its usage for --help and exits 0', async () => {
    const run = runInProcess(['control-plane', '--help']);
    expect(await run.exit).toBe(0);
    expect(run.stdout.text).toContain('--environment-key');
    expect(run.stdout.text).toContain('--store');
  });
});
