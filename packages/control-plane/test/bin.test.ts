/**
 * The control plane as a real process, started the way the root script starts it
 * (`node --conditions=@envworker/source --import tsx packages/control-plane/src/bin.ts`): the ready
 * line, a working API, clean exits on SIGTERM and SIGINT, and exit 2 for a bad flag.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { call } from './http-harness.js';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEADLINE_MS = 20_000;

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(args: string[]): { child: ChildProcess; exit: Promise<Exit>; firstLine: Promise<string> } {
  const child = spawn(process.execPath, ['--conditions=@envworker/source', '--import', 'tsx', BIN, ...args], {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let resolveLine: (line: string) => void = () => undefined;
  const firstLine = new Promise<string>((resolve) => (resolveLine = resolve));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const end = stdout.indexOf('\n');
    if (end >= 0) resolveLine(stdout.slice(0, end));
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, exit, firstLine };
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the control-plane process', () => {
  it('prints one ready line, serves the API, and exits 0 on SIGTERM with nothing else on stdout', async () => {
    const { child, exit, firstLine } = start([]);
    try {
      const ready = JSON.parse(await within(firstLine, 'the ready line')) as Record<string, string>;
      expect(Object.keys(ready)).toEqual(['url', 'environment_id', 'environment_key', 'admin_key']);
      expect(ready['url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready['environment_id']).toMatch(/^env_[0-9A-Za-z]{24}$/);
      const base = `${ready['url']}/v1/environments/${ready['environment_id']}`;
      const enqueued = await call(`${base}/work`, { method: 'POST', headers: { 'x-api-key': ready['admin_key']! } });
      expect(enqueued.status).toBe(201);
      const stats = await call(`${base}/work/stats`, { headers: { authorization: `Bearer ${ready['environment_key']}` } });
      expect(stats.body).toMatchObject({ depth: 1 });
    } finally {
      child.kill('SIGTERM');
    }
    const { code, stdout } = await within(exit, 'the exit');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it('uses the credentials and id it is given, and exits 0 on SIGINT', async () => {
    const id = 'env_ABCDEFGHIJKLMNOPQRSTUVWX';
    const { child, exit, firstLine } = start([
      '--host', '127.0.0.1', '--port', '0', '--store', 'memory',
      '--environment-id', id, '--environment-key', 'given-environment-key', '--admin-key', 'given-admin-key-0001',
    ]);
    try {
      const ready = JSON.parse(await within(firstLine, 'the ready line')) as Record<string, string>;
      expect(ready).toMatchObject({ environment_id: id, environment_key: 'given-environment-key', admin_key: 'given-admin-key-0001' });
      const stats = await call(`${ready['url']}/v1/environments/${id}/work/stats`, { headers: { authorization: 'Bearer given-environment-key' } });
      expect(stats.status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
    expect((await within(exit, 'the exit')).code).toBe(0);
  });

  it.each([
    [['--port', '70000'], '--port'],
    [['--port', 'eighty'], '--port'],
    [['--environment-id', 'env_short'], '--environment-id'],
    [['--environment-key', 'short'], '--environment-key'],
    [['--admin-key', 'with a space 0123456'], '--admin-key'],
    [['--store', 'redis'], '--store'],
    [['--verbose'], '--verbose'],
    [['--port'], '--port'],
  ])('exits 2 for %j with one line on stderr naming %s', async (args, flag) => {
    const { exit } = start(args);
    const { code, stdout, stderr } = await within(exit, 'the exit');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(flag);
  });

  it('prints its usage for --help and exits 0', async () => {
    const { exit } = start(['--help']);
    const { code, stdout } = await within(exit, 'the exit');
    expect(code).toBe(0);
    expect(stdout).toContain('--environment-key');
  });
});
