/**
 * The flags of `pnpm bench`: `--quick`, `--only <name>` (repeatable), and for smoke runs
 * `--items <n>`, `--runs <n>`, `--out <dir>`. Every error names the flag.
 */
import { resolve } from 'node:path';

export interface CliArgs {
  readonly quick: boolean;
  readonly only: readonly string[];
  readonly items?: number;
  readonly runs?: number;
  readonly benchDir: string;
}

function positiveInteger(flag: string, text: string | undefined, max: number): number {
  const value = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || value < 1 || value > max) throw new Error(`${flag} must be an integer between 1 and ${max}`);
  return value;
}

/** Parses the arguments after the script name; `names` are the benchmarks `--only` may pick. */
export function parseCliArgs(argv: readonly string[], names: readonly string[], defaultBenchDir: string): CliArgs {
  let quick = false;
  const only: string[] = [];
  let items: number | undefined;
  let runs: number | undefined;
  let benchDir = defaultBenchDir;
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--quick':
        quick = true;
        continue;
      case '--only':
        if (value === undefined || !names.includes(value)) throw new Error(`--only must be one of: ${names.join(', ')}`);
        only.push(value);
        break;
      case '--items':
        items = positiveInteger('--items', value, 1_000_000);
        break;
      case '--runs':
        runs = positiveInteger('--runs', value, 100);
        break;
      case '--out':
        if (value === undefined || value === '') throw new Error('--out must be a directory');
        benchDir = resolve(value);
        break;
      default:
        throw new Error(`unknown flag ${String(flag)} (flags: --quick, --only <name>, --items <n>, --runs <n>, --out <dir>)`);
    }
    i += 1;
  }
  return { quick, only, benchDir, ...(items === undefined ? {} : { items }), ...(runs === undefined ? {} : { runs }) };
}
