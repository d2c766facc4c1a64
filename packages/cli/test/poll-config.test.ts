/**
 * `poll`'s configuration: flags beat variables, which beat the config file, which beats the
 * defaults, option by option; and every validation error is one line on stderr, exit 2, naming
 * the flag (and where a value came from) and never repeating a credential.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePollConfig } from '../src/config/poll-config.js';
import { runInProcess, TempDir } from './support/harness.js';

const KEY = 'ek_do_not_print_this_key_0123456789';
const BASE_ENV = {
  ANTHROPIC_ENVIRONMENT_ID: 'env_AAAAAAAAAAAAAAAAAAAAAAAA',
  ANTHROPIC_ENVIRONMENT_KEY: KEY,
  ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
};

const temp = new TempDir();
let dir = '';
beforeAll(async () => {
  dir = await temp.create('config');
});
afterAll(() => temp.remove());

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('precedence: flags > environment > file > defaults', () => {
  it('takes each option from the strongest place that sets it', async () => {
    const config = await file(
      'all.yaml',
      ['lease-ttl: 30s', 'max-concurrency: 3', 'poll-idle-delay: 2s-4s', 'stop-grace: 7s', 'worker-id: from-file', 'log-format: text', 'live: false'].join('\n'),
    );
    const flags = new Map<string, unknown>([
      ['config', config],
      ['lease-ttl', '10s'],
      ['command', ['true']],
    ]);
    const env = { ...BASE_ENV, ENVWORKER_LEASE_TTL: '20s', ENVWORKER_MAX_CONCURRENCY: '5', ENVWORKER_WORKER_ID: '' };
    const { config: resolved, origins } = await resolvePollConfig(flags, env, dir);
    // flag over variable over file
    expect(resolved.leaseTtlSeconds).toBe(10);
    expect(origins.leaseTtl).toBe('flag');
    // variable over file
    expect(resolved.maxConcurrency).toBe(5);
    expect(origins.maxConcurrency).toBe('env');
    // file over default
    expect(resolved.pollIdleDelayMs).toEqual([2000, 4000]);
    expect(resolved.stopGraceMs).toBe(7000);
    expect(resolved.logFormat).toBe('text');
    expect(resolved.live).toBe(false);
    expect(origins.pollIdleDelay).toBe('file');
    // an empty variable counts as unset: the file's value stands
    expect(resolved.workerId).toBe('from-file');
    expect(origins.workerId).toBe('file');
    // defaults where nothing sets a value
    expect(resolved.shutdownGraceMs).toBe(30_000);
    expect(origins.shutdownGrace).toBe('default');
    expect(resolved.logLevel).toBe('info');
    expect(resolved.status).toBeNull();
    // variables for the connection
    expect(resolved.baseUrl).toBe('http://127.0.0.1:9');
    expect(origins.environmentKey).toBe('env');
  });

  it('reads a JSON config file too, and the command of each item from it', async () => {
    const config = await file('poll.json', JSON.stringify({ 'base-url': 'http://127.0.0.1:4000/', command: ['sh', '-c', 'true'], 'status-port': 0 }));
    const env = { ANTHROPIC_ENVIRONMENT_ID: BASE_ENV.ANTHROPIC_ENVIRONMENT_ID, ANTHROPIC_ENVIRONMENT_KEY: KEY };
    const { config: resolved } = await resolvePollConfig(new Map([['config', config]]), env, dir);
    expect(resolved.baseUrl).toBe('http://127.0.0.1:4000');
    expect(resolved.runtime).toEqual({ kind: 'process', command: ['sh', '-c', 'true'], commandFrom: 'the command after --', inheritEnv: ['PATH', 'HOME', 'LANG', 'TZ'], nice: 19 });
    expect(resolved.status).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('takes the config file from ENVWORKER_CONFIG, and a flag over it', async () => {
    const fromEnv = await file('env.yaml', 'max-concurrency: 2\n');
    const fromFlag = await file('flag.yaml', 'max-concurrency: 4\n');
    const env = { ...BASE_ENV, ENVWORKER_CONFIG: fromEnv };
    const command: [string, unknown] = ['command', ['true']];
    expect((await resolvePollConfig(new Map([command]), env, dir)).config.maxConcurrency).toBe(2);
    expect((await resolvePollConfig(new Map([command, ['config', fromFlag]]), env, dir)).config.maxConcurrency).toBe(4);
  });

  it('resolves a relative --workdir against the working directory, and uses the defaults of the contract', async () => {
    const { config } = await resolvePollConfig(new Map<string, unknown>([['workdir', 'items'], ['on-work', './on-work.sh']]), BASE_ENV, '/srv/worker');
    expect(config.workdir).toBe('/srv/worker/items');
    expect(config.runtime).toMatchObject({ kind: 'process', command: ['./on-work.sh'], commandFrom: '--on-work' });
    expect(config).toMatchObject({ maxConcurrency: 1, stopGraceMs: 10_000, shutdownGraceMs: 30_000, pollIdleDelayMs: [1000, 3000], leaseTtlSeconds: undefined, live: true });
  });

  it('serves sessions in process when there is nothing to run, as `ant beta:worker poll` does', async () => {
    const { config, origins } = await resolvePollConfig(new Map(), BASE_ENV, dir);
    expect(config.runtime).toEqual({ kind: 'session', maxIdleMs: 60_000, inheritEnv: ['PATH', 'HOME', 'LANG', 'TZ'], nice: 19 });
    expect(origins.runtime).toBeUndefined();
    const tuned = await resolvePollConfig(new Map<string, unknown>([['max-idle', '0'], ['inherit-env', 'PATH,GOPATH']]), { ...BASE_ENV, ENVWORKER_RUNTIME: 'session' }, dir);
    expect(tuned.config.runtime).toEqual({ kind: 'session', maxIdleMs: 0, inheritEnv: ['PATH', 'GOPATH'], nice: 19 });
  });

  it('takes the niceness of process items and of session shells from --nice or ENVWORKER_NICE', async () => {
    const processed = await resolvePollConfig(new Map<string, unknown>([['nice', '5'], ['command', ['true']]]), BASE_ENV, dir);
    expect(processed.config.runtime).toMatchObject({ kind: 'process', nice: 5 });
    const served = await resolvePollConfig(new Map(), { ...BASE_ENV, ENVWORKER_NICE: '0' }, dir);
    expect(served.config.runtime).toMatchObject({ kind: 'session', nice: 0 });
    expect(served.origins.nice).toBe('env');
  });

  it('configures the docker runtime from its flags', async () => {
    const flags = new Map<string, unknown>([
      ['runtime', 'docker'],
      ['image', 'busybox:1.36'],
      ['docker-memory', '512m'],
      ['docker-cpus', '0.5'],
      ['docker-read-only', true],
      ['docker-cap-add', 'CHOWN,NET_BIND_SERVICE'],
    ]);
    const { config } = await resolvePollConfig(flags, BASE_ENV, dir);
    expect(config.runtime).toEqual({
      kind: 'docker',
      image: 'busybox:1.36',
      command: null,
      memoryBytes: 512 * 1024 * 1024,
      cpus: 0.5,
      readOnlyRootfs: true,
      capAdd: ['CHOWN', 'NET_BIND_SERVICE'],
    });
  });
});

/** Runs `envworker poll` in-process; it must fail before any I/O with one line. */
async function failure(args: readonly string[], env: Record<string, string> = BASE_ENV): Promise<string> {
  const run = runInProcess(['poll', ...args], env, dir);
  const status = await run.exit;
  expect(status).toBe(2);
  expect(run.stdout.text).toBe('');
  const lines = run.stderr.text.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  const line = lines[0] as string;
  expect(line.startsWith('envworker poll: ')).toBe(true);
  expect(line).not.toContain(KEY);
  expect(line).not.toMatch(/\bat .*\.ts:\d+/);
  return line;
}

describe('validation errors: one line, exit 2, naming the flag', () => {
  const command = ['--', 'true'];
  it.each([
    [['--bogus', ...command], "unknown option '--bogus'"],
    [['--lease-ttl', '10', ...command], '--lease-ttl: "10" is not a duration: it needs a unit'],
    [['--lease-ttl', '1500ms', ...command], '--lease-ttl: must be a whole number of seconds'],
    [['--lease-ttl', '0', ...command], '--lease-ttl: must be from 1s to 24h'],
    [['--stop-grace', '-1s', ...command], '--stop-grace: "-1s" is not a duration'],
    [['--shutdown-grace', '30', ...command], '--shutdown-grace: "30" is not a duration'],
    [['--poll-idle-delay', '3s-1s', ...command], '--poll-idle-delay: "3s-1s": the minimum is greater than the maximum'],
    [['--poll-idle-delay', '1s', ...command], '--poll-idle-delay: "1s" is not a range'],
    [['--poll-idle-delay', '0-11m', ...command], '--poll-idle-delay: must not exceed 10m'],
    [['--max-concurrency', '0', ...command], '--max-concurrency: must be a whole number from 1 to 10000, got "0"'],
    [['--max-concurrency', 'two', ...command], '--max-concurrency: must be a whole number'],
    [['--base-url', 'ftp://example.com', ...command], '--base-url: must be an http:// or https:// URL'],
    [['--base-url', 'http://user:pw@example.com', ...command], '--base-url: must not carry a user name or password'],
    [['--environment-id', 'production', ...command], '--environment-id: must be an environment id (env_…)'],
    [['--environment-key', 'has a space', ...command], '--environment-key: must be an environment key'],
    [['--runtime', 'vm', ...command], '--runtime: must be one of process, docker, session, got "vm"'],
    [['--max-idle', 'forever'], '--max-idle: "forever" is not a duration'],
    [['--max-idle', '25h'], '--max-idle: must be from 0 to 24h'],
    [['--max-idle', '5s', ...command], '--max-idle applies to --runtime session only (the runtime is process)'],
    [['--runtime', 'session', ...command], '--runtime session serves the session itself: drop --on-work and the command after --'],
    [['--runtime', 'session', '--image', 'busybox'], '--image applies to --runtime docker only (the runtime is session)'],
    [['--runtime', 'docker', '--image', 'busybox', '--inherit-env', 'PATH'], '--inherit-env applies to --runtime process or session only'],
    [['--log-format', 'xml', ...command], '--log-format: must be one of json, text'],
    [['--log-level', 'loud', ...command], '--log-level: must be one of trace, debug, info'],
    [['--status-port', '70000', ...command], '--status-port: must be a whole number from 0 to 65535'],
    [['--inherit-env', 'PATH,1BAD', ...command], '--inherit-env: "1BAD" is not a variable name'],
    [['--nice', '20', ...command], '--nice: must be a whole number from 0 to 19, got "20"'],
    [['--nice', '-1', ...command], '--nice: must be a whole number from 0 to 19'],
    [['--runtime', 'docker', '--image', 'busybox', '--nice', '5'], '--nice applies to --runtime process or session only'],
    [['--docker-memory', '1m', '--runtime', 'docker', '--image', 'busybox'], '--docker-memory: must be at least 6291456 bytes'],
    [['--docker-cpus', 'many', '--runtime', 'docker', '--image', 'busybox'], '--docker-cpus: must be a number'],
    [['--lease-ttl'], "option '--lease-ttl <duration>' argument missing"],
    [['--runtime', 'process'], '--runtime process needs what to run: --on-work <script> or -- <command…>'],
    [['--on-work', './x.sh', ...command], 'give either --on-work <script> or a command after --, not both'],
    [['--image', 'busybox', ...command], '--image applies to --runtime docker only'],
    [['--runtime', 'docker'], '--runtime docker needs --image <image>'],
    [['--runtime', 'docker', '--image', 'busybox', '--on-work', './x.sh'], '--on-work applies to --runtime process only'],
    [['--on-work', 'no-such-program-here'], '--on-work: "no-such-program-here" was not found on PATH'],
  ])('%j → %s', async (args, message) => {
    expect(await failure(args)).toContain(message);
  });

  it('names the variable a bad value came from', async () => {
    expect(await failure(command, { ...BASE_ENV, ENVWORKER_STOP_GRACE: 'soon' })).toContain('--stop-grace (from ENVWORKER_STOP_GRACE): "soon" is not a duration');
    expect(await failure(command, { ...BASE_ENV, ENVWORKER_LIVE: 'maybe' })).toContain('--no-live (from ENVWORKER_LIVE): must be true or false');
    expect(await failure(command, { ...BASE_ENV, ANTHROPIC_BASE_URL: 'localhost:8080' })).toContain('--base-url (from ANTHROPIC_BASE_URL): must be an http:// or https:// URL');
  });

  it('names the config file a bad value came from', async () => {
    const path = await file('bad-value.yaml', 'shutdown-grace: 5\n');
    expect(await failure(['--config', path, ...command])).toContain(`--shutdown-grace (from ${path}): must be a duration with a unit, e.g. "10s", got 5`);
  });

  it('asks for the missing credentials by flag and variable', async () => {
    const { ANTHROPIC_ENVIRONMENT_KEY: _key, ...withoutKey } = BASE_ENV;
    expect(await failure(command, withoutKey)).toContain('missing the environment key: set --environment-key or ANTHROPIC_ENVIRONMENT_KEY');
    const { ANTHROPIC_ENVIRONMENT_ID: _id, ...withoutId } = BASE_ENV;
    expect(await failure(command, withoutId)).toContain('missing the environment id: set --environment-id or ANTHROPIC_ENVIRONMENT_ID');
  });

  it('refuses a config file with an unknown key, naming it (and the key meant)', async () => {
    const snake = await file('snake.yaml', 'lease_ttl: 10s\n');
    expect(await failure(['--config', snake, ...command])).toContain(`--config: ${snake}: unknown key "lease_ttl" (did you mean "lease-ttl"?)`);
    const camel = await file('camel.json', '{"maxConcurrency": 2}');
    expect(await failure(['--config', camel, ...command])).toContain('unknown key "maxConcurrency" (did you mean "max-concurrency"?)');
    const other = await file('other.yaml', 'colour: blue\n');
    expect(await failure(['--config', other, ...command])).toContain('unknown key "colour" (keys are flag names without --');
    const config = await file('config.yaml', 'config: other.yaml\n');
    expect(await failure(['--config', config, ...command])).toContain('unknown key "config"');
  });

  it('refuses a config file that is not a mapping, not YAML, or not there, without quoting its text', async () => {
    const list = await file('list.yaml', '- 1\n- 2\n');
    expect(await failure(['--config', list, ...command])).toContain('must hold a mapping of option names to values');
    const broken = await file('broken.yaml', `environment-key: "${KEY}\nmax-concurrency: 2\n`);
    const line = await failure(['--config', broken, ...command]);
    expect(line).toContain(`--config: ${broken} is not valid YAML or JSON`);
    expect(line).toMatch(/at line \d+, column \d+/);
    const duplicate = await file('duplicate.yaml', 'max-concurrency: 1\nmax-concurrency: 2\n');
    expect(await failure(['--config', duplicate, ...command])).toContain('Map keys must be unique at line 2');
    expect(await failure(['--config', join(dir, 'missing.yaml'), ...command])).toContain('cannot read');
  });
});
