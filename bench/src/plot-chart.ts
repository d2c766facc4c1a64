/**
 * A plot as an SVG, drawn by Vega-Lite (compiled to Vega, rendered headless with `View.toSVG()`,
 * no canvas or native module): each median a point on a line or a bar, the min–max of the runs an
 * error bar, one colour per series, one panel per facet value.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResult, PlotSpec } from './result.js';
import { plotData, type PlotData } from './plot-rows.js';

/** Size of one panel, in pixels; wider with many categories so that their labels do not overlap. */
const PANEL = { width: 360, height: 240 } as const;
const CATEGORY_WIDTH = 110;

function layers(data: PlotData): unknown[] {
  const { spec } = data;
  const bar = spec.mark === 'bar';
  const x = data.xNumeric
    ? {
        field: 'x',
        type: 'quantitative',
        title: spec.xLabel ?? spec.x,
        // The axis ends at the first and last value measured, with a little room for their marks.
        scale: spec.xScale === 'log' ? { type: 'log', nice: false, padding: 12 } : { type: 'linear', nice: false, zero: false, padding: 12 },
        axis: { values: data.xOrder },
      }
    : { field: 'x', type: 'ordinal', title: spec.xLabel ?? spec.x, sort: data.xOrder, axis: { labelAngle: 0, labelLimit: 0 } };
  const y = { type: 'quantitative', title: spec.yLabel, scale: spec.yScale === 'log' ? { type: 'log' } : {} };
  // A bar grows from 0, which a log scale does not have: there it grows from the power of ten below the smallest value.
  const base = bar && spec.yScale === 'log' && data.rows.length > 0 ? { y2: { datum: 10 ** Math.floor(Math.log10(Math.min(...data.rows.map((row) => row.min)))) } } : {};
  const colour = data.legendTitle === null ? {} : { color: { field: 'series', type: 'nominal', sort: data.seriesOrder, title: data.legendTitle } };
  // Bars of several series stand side by side within their category.
  const offset = bar && data.seriesOrder.length > 1 ? { xOffset: { field: 'series', type: 'nominal', sort: data.seriesOrder } } : {};
  const label = { description: { field: 'description', type: 'nominal' } };
  const range = {
    mark: { type: 'rule', strokeWidth: 1.5, ...(bar ? { color: 'black' } : {}) },
    encoding: { x, y: { field: 'min', ...y }, y2: { field: 'max' }, ...(bar ? {} : colour), ...offset },
  };
  if (bar) return [{ mark: { type: 'bar' }, encoding: { x, y: { field: 'median', ...y }, ...base, ...colour, ...offset, ...label } }, range];
  // The line only joins the points; each point is a median and is labelled as one.
  const line = { mark: { type: 'line', aria: false }, encoding: { x, y: { field: 'median', ...y }, ...colour } };
  const points = { mark: { type: 'point', filled: true, size: 50, opacity: 1 }, encoding: { x, y: { field: 'median', ...y }, ...colour, ...label } };
  return [range, line, points];
}

/** The Vega-Lite spec of a plot of `result`. */
export function vegaLiteSpec(result: BenchResult, spec: PlotSpec): TopLevelSpec {
  const data = plotData(result, spec);
  const width = data.xNumeric ? PANEL.width : Math.max(PANEL.width, CATEGORY_WIDTH * data.xOrder.length);
  const body = { width, height: PANEL.height, layer: layers(data) };
  const whole =
    spec.facet === undefined
      ? { title: spec.title, data: { values: data.rows }, ...body }
      : {
          title: spec.title,
          data: { values: data.rows },
          facet: { column: { field: 'panel', type: 'nominal', sort: data.panelOrder, title: null } },
          spec: body,
        };
  return whole as TopLevelSpec;
}

/** The SVG document of a plot of `result` (checked with `checkPlots` first). */
export async function renderPlotSvg(result: BenchResult, spec: PlotSpec): Promise<string> {
  const view = new View(parse(compile(vegaLiteSpec(result, spec)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
