/**
 * Where the report names the machine: once at the top when every result was measured on the same
 * one, and in each section when they differ, since `--only` refreshes one result and keeps the
 * others, which a virtual machine's next session may have measured on another host. The results
 * here are made up.
 */
import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report.js';
import type { BenchResult } from '../src/result.js';

function result(name: string, release: string, node = 'v20.0.0'): BenchResult {
  return {
    name,
    title: `Made-up ${name}`,
    method: 'None: written by the test.',
    generated_at: '2026-01-01T00:00:00.000Z',
    quick: true,
    machine: { cpus: 2, cpu_model: 'Test CPU', total_memory_bytes: 2 ** 31, platform: 'linux', release, arch: 'x64' },
    versions: { node, envworker_core: '0.0.0', anthropic_sdk: '0.0.0' },
    parameters: { runs: 1 },
    columns: [],
    cases: [],
    goals: [],
    plots: [],
  };
}

/** The report's lines that name a machine, each with the heading of the section it sits in. */
function machineLines(report: string): string[][] {
  let heading = '(top)';
  const found: string[][] = [];
  for (const line of report.split('\n')) {
    if (line.startsWith('## ')) heading = line;
    else if (line.startsWith('Machine: ')) found.push([heading, line]);
  }
  return found;
}

describe('the machine in REPORT.md', () => {
  it('is named once, at the top, when every result shares it', () => {
    const report = renderReport([result('a', 'k1'), result('b', 'k1')]);
    expect(machineLines(report)).toEqual([['(top)', expect.stringMatching(/^Machine: 2 × Test CPU, 2\.0 GiB, linux k1 x64\. Node v20\.0\.0, .* Control planes run on 127\.0\.0\.1/)]]);
  });

  it('is named in each section when the kernels differ, and the top says so', () => {
    const report = renderReport([result('a', 'k1'), result('b', 'k2')]);
    expect(machineLines(report)).toEqual([
      ['## Made-up a (`a`)', expect.stringContaining('linux k1 x64')],
      ['## Made-up b (`b`)', expect.stringContaining('linux k2 x64')],
    ]);
    expect(report).toContain('The results come from 2 different machines or versions; each section names its own.');
  });

  it('counts a different Node version as a different machine', () => {
    const report = renderReport([result('a', 'k1'), result('b', 'k1', 'v20.1.0')]);
    expect(machineLines(report).map(([heading]) => heading)).toEqual(['## Made-up a (`a`)', '## Made-up b (`b`)']);
  });

  it('says there are no results yet when there are none', () => {
    expect(renderReport([])).toContain('No results yet: run `pnpm bench`.');
  });
});
