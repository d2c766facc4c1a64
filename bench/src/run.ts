/**
 * `pnpm bench [--quick] [--only <name>]…`: runs the benchmarks against control planes it starts
 * on 127.0.0.1, writes `bench/results/<name>.json` and regenerates `bench/REPORT.md`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliArgs } from './cli-args.js';
import { BENCHMARKS, runSuite } from './suite.js';

const benchRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

let args;
try {
  args = parseCliArgs(process.argv.slice(2), BENCHMARKS.map((b) => b.name), benchRoot);
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(2);
}
const results = await runSuite({ ...args, progress: (line) => process.stderr.write(`${line}\n`) });
for (const result of results) {
  for (const goal of result.goals) process.stdout.write(`${goal.met ? 'met    ' : 'NOT met'} ${goal.goal}: ${goal.value.toFixed(2)} ${goal.unit}\n`);
}
process.stdout.write(`wrote ${join(args.benchDir, 'REPORT.md')}\n`);
