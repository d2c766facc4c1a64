/**
 * The data of a plot: a result file's `PlotSpec` checked against the result it belongs to, and the
 * cases turned into one row per point (median, min, max; series; panel). Result files are read
 * back from disk, so every field of a spec is checked and an error names it.
 */
import type { BenchResult, PlotSpec } from './result.js';

/** One point of a plot: a metric's median over the runs of one case, and their min and max. */
export interface PlotRow {
  readonly x: number | string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The legend entry; `''` when the plot has a single series. */
  readonly series: string;
  /** The panel (`<facet> = <value>`); `''` when the plot has no facet. */
  readonly panel: string;
  /** Read out as the median mark's label (`aria-label` in the SVG). */
  readonly description: string;
}

/** A checked plot and its rows, with the order in which categories, series and panels appear. */
export interface PlotData {
  readonly spec: PlotSpec;
  readonly rows: readonly PlotRow[];
  /** Every x value is a number (a numeric axis), else the x values are categories. */
  readonly xNumeric: boolean;
  readonly xOrder: readonly (number | string)[];
  readonly seriesOrder: readonly string[];
  readonly panelOrder: readonly string[];
  /** Title of the colour legend; `null` when there is one series and so no legend. */
  readonly legendTitle: string | null;
}

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SCALES: readonly string[] = ['linear', 'log'];
const MARKS: readonly string[] = ['line', 'bar'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks every field of `result.plots` (outside input: a result file); throws naming the first bad one. */
export function checkPlots(result: BenchResult): readonly PlotSpec[] {
  const where = `${result.name}.plots`;
  const plots: unknown = result.plots;
  if (plots === undefined) return [];
  if (!Array.isArray(plots)) throw new Error(`${where} must be an array of plot specs`);
  const params = new Set(result.cases.flatMap((benchCase) => Object.keys(benchCase.params)));
  const metrics = new Set(result.columns.map((column) => column.key));
  const ids = new Set<string>();
  plots.forEach((spec: unknown, index) => {
    const at = `${where}[${index}]`;
    if (!isRecord(spec)) throw new Error(`${at} must be an object`);
    const text = (field: string, optional = false): void => {
      const value = spec[field];
      if (optional && value === undefined) return;
      if (typeof value !== 'string' || value === '') throw new Error(`${at}.${field} must be a non-empty string`);
    };
    const param = (field: string, optional = false): void => {
      text(field, optional);
      const value = spec[field];
      if (typeof value === 'string' && !params.has(value)) throw new Error(`${at}.${field} must name a parameter of the cases; "${value}" is none`);
    };
    const oneOf = (field: string, allowed: readonly string[]): void => {
      const value = spec[field];
      if (value !== undefined && (typeof value !== 'string' || !allowed.includes(value))) throw new Error(`${at}.${field} must be one of: ${allowed.join(', ')}`);
    };
    if (typeof spec['id'] !== 'string' || !ID.test(spec['id'])) throw new Error(`${at}.id must be lower-case letters, digits and -, at most 64`);
    if (ids.has(spec['id'])) throw new Error(`${at}.id "${spec['id']}" is used by another plot of ${result.name}`);
    ids.add(spec['id']);
    text('title');
    param('x');
    text('xLabel', true);
    oneOf('xScale', SCALES);
    const y = spec['y'];
    if (!Array.isArray(y) || y.length === 0) throw new Error(`${at}.y must be a non-empty array of metric keys`);
    y.forEach((key: unknown, k) => {
      if (typeof key !== 'string' || !metrics.has(key)) throw new Error(`${at}.y[${k}] must be the key of one of the columns (${[...metrics].join(', ')})`);
    });
    text('yLabel');
    oneOf('yScale', SCALES);
    param('series', true);
    param('facet', true);
    oneOf('mark', MARKS);
  });
  return plots as PlotSpec[];
}

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** The rows of a checked `spec` of `result`; throws when a log scale meets a value that is not above 0. */
export function plotData(result: BenchResult, spec: PlotSpec): PlotData {
  const labelOf = new Map(result.columns.map((column) => [column.key, column.label]));
  const plotted = result.cases.filter((benchCase) => benchCase.params[spec.x] !== undefined);
  const xValues = plotted.map((benchCase) => benchCase.params[spec.x]!);
  const xNumeric = spec.mark !== 'bar' && xValues.every((value) => typeof value === 'number');
  const rows: PlotRow[] = [];
  for (const benchCase of plotted) {
    const x = benchCase.params[spec.x]!;
    const seriesValue = spec.series === undefined ? undefined : benchCase.params[spec.series];
    const facetValue = spec.facet === undefined ? undefined : benchCase.params[spec.facet];
    for (const key of spec.y) {
      const summary = benchCase.metrics[key];
      if (summary === undefined) continue;
      const parts = [spec.y.length > 1 ? labelOf.get(key)! : '', seriesValue === undefined ? '' : String(seriesValue)].filter((part) => part !== '');
      const series = parts.join(', ');
      const panel = facetValue === undefined ? '' : `${spec.facet} = ${String(facetValue)}`;
      const where = [panel, series, `${spec.x} = ${String(x)}`].filter((part) => part !== '').join(', ');
      rows.push({ x, median: summary.median, min: summary.min, max: summary.max, series, panel, description: `median ${labelOf.get(key)!}: ${where}` });
    }
  }
  if (spec.xScale === 'log' && !rows.every((row) => typeof row.x === 'number' && row.x > 0)) {
    throw new Error(`${result.name}.plots "${spec.id}": xScale log needs parameter ${spec.x} to be numbers above 0`);
  }
  if (spec.yScale === 'log' && !rows.every((row) => row.min > 0)) {
    throw new Error(`${result.name}.plots "${spec.id}": yScale log needs every median, min and max of ${spec.y.join(', ')} above 0`);
  }
  const xOrder = distinct(rows.map((row) => row.x));
  if (xNumeric || xOrder.every((value) => typeof value === 'number')) xOrder.sort((a, b) => Number(a) - Number(b));
  const seriesOrder = distinct(rows.map((row) => row.series));
  const legendParts = [spec.y.length > 1 ? 'metric' : '', spec.series ?? ''].filter((part) => part !== '');
  return {
    spec,
    rows,
    xNumeric,
    xOrder,
    seriesOrder,
    panelOrder: distinct(rows.map((row) => row.panel)),
    legendTitle: legendParts.length === 0 ? null : legendParts.join(', '),
  };
}
