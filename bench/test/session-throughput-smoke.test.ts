/**
 * The session-throughput benchmark end to end at a tiny size, as `pnpm bench` runs it: a subprocess
 * that starts a control plane process per scenario and serves 4 scripted sessions in each, at every
 * concurrency, then 4 CPU-burning ones, and measures the host's process starts. It must write a
 * result file with every scenario, figure and goal, the calibration among them. No figure is
 * asserted: 4 sessions say nothing about throughput, only the shape does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchRunOnce, readResult, SUMMARY_SHAPE } from './bench-run.js';

const SESSIONS = 4;

const outDir = benchRunOnce('envworker-bench-sessions-', ['--only', 'session-throughput', '--items', String(SESSIONS)], 120_000);

describe('pnpm bench --only session-throughput --items 4', () => {
  it('writes session-throughput.json with every scenario at every concurrency, the host calibration, the burns and the goals', async () => {
    const result = await readResult(outDir(), 'session-throughput');
    expect(result).toMatchObject({ name: 'session-throughput', quick: true, parameters: { runs: 1, burning_sessions: SESSIONS, burn_ms: 1000, calibration_starts: 4 } });
    const throughput = [1, 16, 64].flatMap((concurrency) => [
      { scenario: 'with bash', shells: 'helper', concurrency, sessions: SESSIONS },
      { scenario: 'with bash, in-process fork', shells: 'in-process', concurrency, sessions: SESSIONS },
      { scenario: 'file tools', shells: 'helper', concurrency, sessions: SESSIONS },
    ]);
    expect(result.cases.map((c) => c.params)).toEqual([
      ...throughput,
      { scenario: 'host: bash -c cat, back to back', at_once: 1 },
      { scenario: 'host: bash -c cat, back to back', at_once: 2 },
      { scenario: 'CPU-burning bash', shells: 'helper', concurrency: SESSIONS, sessions: SESSIONS },
      { scenario: 'CPU-burning bash, in-process fork', shells: 'in-process', concurrency: SESSIONS, sessions: SESSIONS },
    ]);
    const shape = (keys: readonly string[]): Record<string, unknown> => Object.fromEntries(keys.map((key) => [key, SUMMARY_SHAPE]));
    const cpuKeys = ['cpu_ms_per_session', 'worker_cpu_ms_per_session', 'control_plane_cpu_ms_per_session', 'rest_cpu_ms_per_session'];
    for (const c of result.cases.slice(0, throughput.length)) expect(c.metrics).toEqual(shape(['sessions_per_second', 'calls_per_second', ...cpuKeys]));
    const [one, two] = result.cases.slice(throughput.length, throughput.length + 2);
    for (const c of [one, two]) expect(c!.metrics).toEqual(shape(['starts_per_second']));
    expect(one!.metrics['starts_per_second']!.median).toBeGreaterThan(0);
    for (const c of result.cases.slice(throughput.length + 2)) expect(c.metrics).toEqual(shape(['lateness_p99', 'lateness_max']));
    const median = (scenario: string, concurrency: number, key: string): number | undefined =>
      result.cases.find((c) => c.params['scenario'] === scenario && c.params['concurrency'] === concurrency)?.metrics[key]?.median;
    expect(result.goals.map((goal) => goal.goal)).toEqual([
      'quick tool calls (one of them bash) at C=64 ≥ 200 calls/s',
      'quick file-tool calls at C=64 ≥ 200 calls/s',
      `heartbeat lateness p99 with ${SESSIONS} CPU-burning bash sessions < 250 ms`,
    ]);
    const [bash, files, lateness] = result.goals;
    expect(bash!.value).toBe(median('with bash', 64, 'calls_per_second'));
    expect(files!.value).toBe(median('file tools', 64, 'calls_per_second'));
    expect(lateness!.value).toBe(median('CPU-burning bash', SESSIONS, 'lateness_p99'));
    expect([bash!.met, files!.met, lateness!.met]).toEqual([bash!.value >= 200, files!.value >= 200, lateness!.value < 250]);
    expect(await readFile(join(outDir(), 'REPORT.md'), 'utf8')).toContain('| host: bash -c cat, back to back |');
  });
});
