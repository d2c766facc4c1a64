/**
 * One control-plane replica as its own process, on the Redis store: what `envworker control-plane
 * --store redis` runs, plus a lease policy. The CLI command has no lease flags, so through it every
 * TTL is clamped to the contract's 10 s minimum and an item acked but never heartbeated keeps its
 * 120 s default lease; these tests need TTLs of a few seconds to see leases expire quickly.
 *
 * Usage: `replica-process.ts --port <n> --redis-url <url> --environment-id <id> --min-ttl <s>
 * --default-ttl <s>`, with the environment key in `ENVIRONMENT_KEY` and the admin key in
 * `ADMIN_KEY` (not on the command line). Once listening it prints one JSON line `{"ready": true,
 * "url": …}`; SIGTERM closes it (exit 0).
 */
import { parseArgs } from 'node:util';
import { startControlPlane } from '../../src/index.js';

function fail(message: string): never {
  process.stderr.write(`replica-process: ${message}\n`);
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
    port: { type: 'string' },
    'redis-url': { type: 'string' },
    'environment-id': { type: 'string' },
    'min-ttl': { type: 'string' },
    'default-ttl': { type: 'string' },
  },
  strict: true,
});

const controlPlane = await startControlPlane({
  port: whole('port', values.port, 1, 65_535),
  store: 'redis',
  redis: { url: required('--redis-url', values['redis-url']) },
  environments: [{ id: required('--environment-id', values['environment-id']), key: required('ENVIRONMENT_KEY', process.env['ENVIRONMENT_KEY']) }],
  adminKey: required('ADMIN_KEY', process.env['ADMIN_KEY']),
  lease: { minTtlSeconds: whole('min-ttl', values['min-ttl'], 1, 600), defaultTtlSeconds: whole('default-ttl', values['default-ttl'], 1, 600) },
});
process.stdout.write(`${JSON.stringify({ ready: true, url: controlPlane.url })}\n`);

process.once('SIGTERM', () => {
  controlPlane.close().then(
    () => process.exit(0),
    (error: unknown) => fail(`close failed: ${error instanceof Error ? error.message : String(error)}`),
  );
});
