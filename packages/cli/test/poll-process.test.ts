/**
 * `envworker poll` as a real process: started through its launcher (`bin/envworker.js`) it
 * reports a bad flag as one line, exit 2; it refuses to start against a control plane that is
 * not there or that refuses its key, naming what to fix; and it serves its status port (found
 * from its log) until SIGTERM, then exits 0.
 */
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runInProcess, within } from './support/harness.js';
import { parsePrometheus } from './support/prometheus.js';

let cp: ControlPlane;
let env: Record<string, string>;

beforeAll(async () => {
  cp = await startControlPlane();
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  env = { ANTHROPIC_BASE_URL: cp.url, ANTHROPIC_ENVIRONMENT_ID: environment.id, ANTHROPIC_ENVIRONMENT_KEY: environment.key };
});

afterAll(() => cp.close());

function oneLine(text: string): string {
  const lines = text.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

describe('envworker poll, the process', () => {
  it('through its launcher: a bad duration is one line on stderr, exit 2, no stack', async () => {
    const cli = new CliProcess(['poll', '--lease-ttl', '10', '--', 'true'], { env, launcher: true });
    const exit = await within(cli.exit, 20_000, 'the exit');
    expect(exit.code).toBe(2);
    expect(cli.stdout).toBe('');
    expect(oneLine(cli.stderr)).toBe('envworker poll: --lease-ttl: "10" is not a duration: it needs a unit (ms, s, m or h), e.g. 500ms, 10s, 2m');
  });

  it('refuses to start when the control plane is not there, naming the URL', async () => {
    const gone = await startControlPlane();
    const url = gone.url;
    await gone.close();
    const run = runInProcess(['poll', '--', 'true'], { ...env, ANTHROPIC_BASE_URL: url });
    expect(await run.exit).toBe(2);
    expect(run.stdout.text).toBe('');
    expect(oneLine(run.stderr.text)).toBe(`envworker poll: cannot reach ${url}: connection refused; is the control plane running?`);
  });

  it('refuses to start with a key the control plane does not know, or an environment it does not have', async () => {
    const badKey = runInProcess(['poll', '--', 'true'], { ...env, ANTHROPIC_ENVIRONMENT_KEY: 'ek_not_the_key_of_this_environment' });
    expect(await badKey.exit).toBe(2);
    const keyLine = oneLine(badKey.stderr.text);
    expect(keyLine).toMatch(/^envworker poll: http:\/\/127\.0\.0\.1:\d+ refused the credential \(stats: 401 authentication_error: .*\); check --environment-key or ANTHROPIC_ENVIRONMENT_KEY$/);
    expect(keyLine).not.toContain('ek_not_the_key_of_this_environment');

    const badEnvironment = runInProcess(['poll', '--environment-id', 'env_ZZZZZZZZZZZZZZZZZZZZZZZZ', '--', 'true'], env);
    const code = await badEnvironment.exit;
    expect(code).toBe(2);
    expect(oneLine(badEnvironment.stderr.text)).toMatch(/check --environment-id/);
  });

  it('serves /healthz, /readyz, /metrics and /status.json on --status-port, then exits 0 on SIGTERM', async () => {
    const cli = new CliProcess(['poll', '--status-port', '0', '--worker-id', 'status-port-test', '--poll-idle-delay', '0-0', '--', 'true'], { env });
    const listening = await cli.record('the status server', (record) => record['msg'] === 'status server listening');
    const url = listening['status_url'] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await cli.record('polling', (record) => record['msg'] === 'worker started; polling for work');

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const status = (await (await fetch(`${url}/status.json`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ workerId: 'status-port-test', lifecycle: 'running', slots: { max: 1 } });
    const metrics = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    expect(metrics.value('envworker_items_claimed_total')).toBe(0);
    expect(metrics.types.get('envworker_heartbeat_latency_seconds')).toBe('histogram');

    cli.kill('SIGTERM');
    expect((await within(cli.exit, 15_000, 'the exit')).code).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
