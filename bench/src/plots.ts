/**
 * The plot files of the report: `plots/<result name>-<plot id>.svg` for every plot of every
 * result, written afresh each time the report is (a plot no result asks for any more goes).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderPlotSvg } from './plot-chart.js';
import { checkPlots } from './plot-rows.js';
import type { BenchResult, PlotSpec } from './result.js';

/** The directory of the plots, relative to the report. */
export const PLOTS_DIR = 'plots';

/** The file name of a plot of `result`. */
export function plotFileName(result: BenchResult, spec: PlotSpec): string {
  return `${result.name}-${spec.id}.svg`;
}

/** Replaces every SVG in `plotsDir` with the plots of `results`; resolves with the paths written. */
export async function writePlots(results: readonly BenchResult[], plotsDir: string): Promise<string[]> {
  // Every plot is drawn before anything is removed, so a bad spec leaves the plots as they were.
  const drawn: { name: string; svg: string }[] = [];
  for (const result of results) {
    for (const spec of checkPlots(result)) drawn.push({ name: plotFileName(result, spec), svg: await renderPlotSvg(result, spec) });
  }
  await mkdir(plotsDir, { recursive: true });
  const stale = (await readdir(plotsDir)).filter((name) => name.endsWith('.svg'));
  await Promise.all(stale.map((name) => rm(join(plotsDir, name), { force: true })));
  const written: string[] = [];
  for (const { name, svg } of drawn) {
    const path = join(plotsDir, name);
    await writeFile(path, `${svg}\n`);
    written.push(path);
  }
  return written;
}
