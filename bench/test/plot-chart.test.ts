/**
 * The plots of the report: a result's PlotSpec drawn as an SVG by Vega-Lite (well-formed XML, the
 * axis titles, one median mark per case and metric), the checks of a spec read from a result file,
 * and the report that writes the SVGs and links them under the tables. No timing: the figures
 * here are made up.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderPlotSvg } from '../src/plot-chart.js';
import { checkPlots } from '../src/plot-rows.js';
import { writeReport } from '../src/report.js';
import type { BenchCase, BenchResult, PlotSpec } from '../src/result.js';
import { summarize } from '../src/stats.js';

function benchCase(params: Record<string, number | string>, metrics: Record<string, number[]>): BenchCase {
  return { params, metrics: Object.fromEntries(Object.entries(metrics).map(([key, runs]) => [key, summarize(runs)])) };
}

function resultWith(cases: BenchCase[], plots: readonly PlotSpec[]): BenchResult {
  return {
    name: 'made-up',
    title: 'Made-up figures',
    method: 'None: written by the test.',
    generated_at: '2026-01-01T00:00:00.000Z',
    quick: true,
    machine: { cpus: 2, cpu_model: 'test', total_memory_bytes: 2 ** 30, platform: 'linux', release: 'test', arch: 'x64' },
    versions: { node: process.version, envworker_core: '0.0.0', anthropic_sdk: '0.0.0' },
    parameters: { runs: 3 },
    columns: [
      { key: 'envworker', label: 'envworker', unit: 'items/s' },
      { key: 'official', label: 'official loop', unit: 'items/s' },
    ],
    cases,
    goals: [],
    plots,
  };
}

/** Parses `svg` as XML, failing on any error or warning of the parser. */
function parseSvg(svg: string): Element {
  const problems: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => problems.push(`${level}: ${message}`) }).parseFromString(svg, 'image/svg+xml');
  expect(problems).toEqual([]);
  expect(doc.documentElement?.tagName).toBe('svg');
  return doc.documentElement!;
}

/** The labels of the median marks (their `aria-label`s, which the plot's rows describe). */
function medianMarks(root: Element): string[] {
  const all = [...root.getElementsByTagName('*')];
  return all.map((element) => element.getAttribute('aria-label') ?? '').filter((label) => label.startsWith('median '));
}

/** The texts of the SVG's text elements (axis titles, labels, the title). */
function texts(root: Element): string[] {
  return [...root.getElementsByTagName('text')].map((element) => element.textContent ?? '');
}

const cases = [
  benchCase({ hold_ms: 0, concurrency: 1 }, { envworker: [240, 150, 275], official: [340, 280, 470] }),
  benchCase({ hold_ms: 0, concurrency: 16 }, { envworker: [460, 390, 500], official: [560, 490, 660] }),
  benchCase({ hold_ms: 100, concurrency: 1 }, { envworker: [9.5, 9.3, 9.6], official: [9.7, 9.5, 9.7] }),
  benchCase({ hold_ms: 100, concurrency: 16 }, { envworker: [131, 123, 134], official: [9.6, 9.5, 9.6] }),
];

describe('renderPlotSvg', () => {
  it('draws a line plot as well-formed SVG with its axis titles, a panel per facet value and one median point per case and metric', async () => {
    const spec: PlotSpec = {
      id: 'rate',
      title: 'items/s by concurrency',
      x: 'concurrency',
      xLabel: 'concurrency C',
      xScale: 'log',
      y: ['envworker', 'official'],
      yLabel: 'items per second',
      yScale: 'log',
      facet: 'hold_ms',
    };
    const root = parseSvg(await renderPlotSvg(resultWith(cases, [spec]), spec));
    const text = texts(root);
    expect(text).toContain('concurrency C');
    expect(text).toContain('items per second');
    expect(text).toContain('items/s by concurrency');
    expect(text).toEqual(expect.arrayContaining(['hold_ms = 0', 'hold_ms = 100', 'envworker', 'official loop']));
    const marks = medianMarks(root);
    expect(marks).toHaveLength(cases.length * 2);
    expect(marks).toContain('median official loop: hold_ms = 100, official loop, concurrency = 16');
  });

  it('draws bars over categories, one per case, and leaves out a case without the metric', async () => {
    const spec: PlotSpec = { id: 'bars', title: 'by case', x: 'case', y: ['envworker'], yLabel: 'items/s', mark: 'bar', yScale: 'log' };
    const named = [
      benchCase({ case: 'idle' }, { envworker: [3, 2, 4] }),
      benchCase({ case: 'busy' }, { envworker: [5, 4, 9] }),
      benchCase({ case: 'docker' }, {}),
    ];
    const root = parseSvg(await renderPlotSvg(resultWith(named, [spec]), spec));
    expect(medianMarks(root).sort()).toEqual(['median envworker: case = busy', 'median envworker: case = idle']);
    expect(texts(root)).toEqual(expect.arrayContaining(['case', 'items/s', 'idle', 'busy']));
  });

  it('splits a metric into one series per value of the series parameter', async () => {
    const spec: PlotSpec = { id: 'stores', title: 'stores', x: 'concurrency', y: ['envworker'], yLabel: 'items/s', series: 'store' };
    const stores = [
      benchCase({ store: 'memory', concurrency: 1 }, { envworker: [400] }),
      benchCase({ store: 'memory', concurrency: 64 }, { envworker: [700] }),
      benchCase({ store: 'redis', concurrency: 1 }, { envworker: [300] }),
    ];
    const root = parseSvg(await renderPlotSvg(resultWith(stores, [spec]), spec));
    expect(medianMarks(root)).toHaveLength(3);
    expect(texts(root)).toEqual(expect.arrayContaining(['store', 'memory', 'redis']));
  });

  it('refuses a log scale over a value that is not above 0, naming the plot', async () => {
    const spec: PlotSpec = { id: 'zero', title: 'zero', x: 'hold_ms', xScale: 'log', y: ['envworker'], yLabel: 'items/s' };
    await expect(renderPlotSvg(resultWith(cases, [spec]), spec)).rejects.toThrow('made-up.plots "zero": xScale log needs parameter hold_ms to be numbers above 0');
  });
});

describe('checkPlots', () => {
  const good: PlotSpec = { id: 'ok', title: 't', x: 'concurrency', y: ['envworker'], yLabel: 'items/s' };
  const check = (plots: unknown): readonly PlotSpec[] => checkPlots({ ...resultWith(cases, []), plots } as BenchResult);

  it('accepts a result without plots and a well-formed spec', () => {
    expect(check(undefined)).toEqual([]);
    expect(check([good])).toEqual([good]);
  });

  it('names the field of a bad spec', () => {
    expect(() => check({})).toThrow('made-up.plots must be an array of plot specs');
    expect(() => check([{ ...good, id: 'Has Space' }])).toThrow('made-up.plots[0].id must be lower-case letters, digits and -');
    expect(() => check([good, good])).toThrow('made-up.plots[1].id "ok" is used by another plot of made-up');
    expect(() => check([{ ...good, x: 'nope' }])).toThrow('made-up.plots[0].x must name a parameter of the cases; "nope" is none');
    expect(() => check([{ ...good, y: [] }])).toThrow('made-up.plots[0].y must be a non-empty array of metric keys');
    expect(() => check([{ ...good, y: ['envworker', 'p99'] }])).toThrow('made-up.plots[0].y[1] must be the key of one of the columns (envworker, official)');
    expect(() => check([{ ...good, yScale: 'sqrt' }])).toThrow('made-up.plots[0].yScale must be one of: linear, log');
    expect(() => check([{ ...good, mark: 'area' }])).toThrow('made-up.plots[0].mark must be one of: line, bar');
    expect(() => check([{ ...good, facet: 'store' }])).toThrow('made-up.plots[0].facet must name a parameter of the cases; "store" is none');
    expect(() => check([{ ...good, title: '' }])).toThrow('made-up.plots[0].title must be a non-empty string');
  });
});

describe('writeReport with plots', () => {
  let benchDir: string;
  beforeEach(async () => {
    benchDir = await mkdtemp(join(tmpdir(), 'envworker-plots-'));
    await mkdir(join(benchDir, 'results'));
  });
  afterEach(async () => {
    await rm(benchDir, { recursive: true, force: true });
  });

  it('writes an SVG per plot, links it under its table, and removes the SVG of a plot no result asks for', async () => {
    const spec: PlotSpec = { id: 'rate', title: 'Rate by concurrency', x: 'concurrency', y: ['envworker'], yLabel: 'items/s', facet: 'hold_ms' };
    await writeFile(join(benchDir, 'results', 'made-up.json'), JSON.stringify(resultWith(cases, [spec])));
    await mkdir(join(benchDir, 'plots'));
    await writeFile(join(benchDir, 'plots', 'gone-old.svg'), '<svg/>');
    await writeReport(benchDir);
    expect(await readdir(join(benchDir, 'plots'))).toEqual(['made-up-rate.svg']);
    parseSvg(await readFile(join(benchDir, 'plots', 'made-up-rate.svg'), 'utf8'));
    const report = await readFile(join(benchDir, 'REPORT.md'), 'utf8');
    const table = report.indexOf('| hold_ms | concurrency |');
    const link = report.indexOf('![Rate by concurrency](plots/made-up-rate.svg)');
    expect(table).toBeGreaterThan(0);
    expect(link).toBeGreaterThan(table);
  });

  it('leaves the plots as they were when a result has a bad spec', async () => {
    await writeFile(join(benchDir, 'results', 'made-up.json'), JSON.stringify(resultWith(cases, [{ id: 'bad', title: 't', x: 'nope', y: ['envworker'], yLabel: 'y' }])));
    await mkdir(join(benchDir, 'plots'));
    await writeFile(join(benchDir, 'plots', 'kept.svg'), '<svg/>');
    await expect(writeReport(benchDir)).rejects.toThrow('made-up.plots[0].x must name a parameter');
    expect(await readdir(join(benchDir, 'plots'))).toEqual(['kept.svg']);
  });
});
