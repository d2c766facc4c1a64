/**
 * One envworker worker as its own process: `createWorker` with the in-process function runtime,
 * whose items each take `--item-ms` milliseconds, or with `--hold` run until they are stopped
 * (so the worker holds its leases until it dies). It prints every lifecycle event (`events$`, which
 * never carries a secret) as one JSON line on standard output; its own log goes to standard error.
 * SIGTERM drains it and exits 0.
 *
 * Usage: `worker-process.ts --base-url <url> --environment-id <id> --worker-id <id>
 * --max-concurrency <n> --lease-ttl <s> --workdir <dir> (--item-ms <n> | --hold)`, with the
 * environment key in `ENVIRONMENT_KEY`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createWorker, functionRuntime, type WorkFunction } from '@envworker/core';

function fail(message: string): never {
  process.stderr.write(`worker-process: ${message}\n`);
  process.exit(2);
}

function whole(name: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < min || value > max) fail(`--${name} must be an integer in [${min}, ${max}]`);
  return value;
}

function required(name: string, raw: string | undefined): string {
  if (raw === undefined || raw === '') fail(`${name} is required`);
  return raw;
}

const { values } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    'environment-id': { type: 'string' },
    'worker-id': { type: 'string' },
    'max-concurrency': { type: 'string' },
    'lease-ttl': { type: 'string' },
    workdir: { type: 'string' },
    'item-ms': { type: 'string' },
    hold: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.hold === (values['item-ms'] !== undefined)) fail('give exactly one of --item-ms <n> and --hold');

/** An item: a short piece of work, or (`--hold`) nothing until the worker stops it. */
const itemMs = values.hold ? null : whole('item-ms', values['item-ms'], 0, 60_000);
const work: WorkFunction = async (_work, ctx) => {
  if (itemMs === null) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    return;
  }
  await sleep(itemMs, undefined, { signal: ctx.signal });
};

const worker = createWorker({
  baseUrl: required('--base-url', values['base-url']),
  environmentId: required('--environment-id', values['environment-id']),
  environmentKey: required('ENVIRONMENT_KEY', process.env['ENVIRONMENT_KEY']),
  workerId: required('--worker-id', values['worker-id']),
  maxConcurrency: whole('max-concurrency', values['max-concurrency'], 1, 100),
  leaseTtlSeconds: whole('lease-ttl', values['lease-ttl'], 1, 600),
  workdirRoot: required('--workdir', values.workdir),
  // An empty poll is followed by another soon, so an item re-queued by a lease expiry is taken at once.
  pollIdleDelayMs: [50, 150],
  stopGraceMs: 1000,
  runtime: functionRuntime(work),
  logger: { level: 'warn', destination: process.stderr },
});
worker.events$.subscribe((event) => process.stdout.write(`${JSON.stringify(event)}\n`));
process.once('SIGTERM', () => void worker.shutdown({ mode: 'drain', deadlineMs: 5000 }));
await worker.start();
worker.done.then(
  () => process.exit(0),
  (error: unknown) => fail(`the worker failed: ${error instanceof Error ? error.message : String(error)}`),
);
