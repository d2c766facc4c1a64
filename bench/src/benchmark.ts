/** What every benchmark of the suite is: a name and a run that yields its result file's content. */
import type { BenchResult } from './result.js';

/** How big a run is. `items` and `runs` override each benchmark's own sizes (for smoke tests). */
export interface SuiteSettings {
  readonly quick: boolean;
  readonly items?: number;
  readonly runs?: number;
  /** Progress lines; default none. */
  readonly progress?: (line: string) => void;
}

export interface Benchmark {
  readonly name: string;
  run(settings: SuiteSettings): Promise<BenchResult>;
}

/** Runs per figure: the override, else 3 for `--quick` and 5 otherwise. */
export function runsOf(settings: SuiteSettings): number {
  return settings.runs ?? (settings.quick ? 3 : 5);
}

/** A size by the run's kind: `smoke` when `items` overrides the sizes (a smoke test), else `quick` or `full`. */
export function sizeOf<T>(settings: SuiteSettings, sizes: { readonly full: T; readonly quick: T; readonly smoke: T }): T {
  if (settings.items !== undefined) return sizes.smoke;
  return settings.quick ? sizes.quick : sizes.full;
}
