/**
 * Fuzzing every query and body the control plane accepts: whatever arrives (wrong types, huge and
 * negative numbers, unicode, missing and extra fields, invalid JSON, wrong content types), the
 * answer is a success for a valid request or a 4xx JSON error that names the problem; never a 500,
 * never a crash, and a refused request changes nothing in the store.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_HEARTBEAT } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';

let cp: ControlPlane;
let base: string;
let envKey: string;
let workIds: string[];

beforeAll(async () => {
  cp = await startControlPlane();
  const environment = cp.environments[0]!;
  envKey = environment.key;
  base = `${cp.url}/v1/environments/${environment.id}`;
  // Items in several states, so that fuzzed calls meet every branch of the state table.
  workIds = [];
  for (let i = 0; i < 4; i += 1) workIds.push((await cp.enqueue({ metadata: { n: String(i) } })).id);
  const auth = { authorization: `Bearer ${envKey}` };
  for (const _ of workIds.slice(0, 3)) await fetch(`${base}/work/poll`, { headers: auth });
  await fetch(`${base}/work/${workIds[0]}/ack`, { method: 'POST', headers: auth });
  await fetch(`${base}/work/${workIds[1]}/ack`, { method: 'POST', headers: auth });
  await fetch(`${base}/work/${workIds[1]}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, { method: 'POST', headers: auth });
  await fetch(`${base}/work/${workIds[2]}/stop`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"force":true}' });
});

afterAll(async () => {
  await cp?.close();
});

/** Everything a client can observe of the store, to show that a refused request changed nothing. */
async function snapshot(): Promise<string> {
  const environmentId = cp.environments[0]!.id;
  const items: unknown[] = [];
  let page: string | undefined;
  do {
    const result = await cp.store.list(environmentId, page === undefined ? { limit: 100 } : { limit: 100, page });
    items.push(...result.data);
    page = result.next_page ?? undefined;
  } while (page !== undefined);
  const stats = await cp.store.stats(environmentId);
  return JSON.stringify({ items, depth: stats.depth, pending: stats.pending, oldest: stats.oldest_queued_at });
}

interface Attempt {
  method: 'GET' | 'POST';
  path: string;
  query: Array<[string, string]>;
  contentType?: string;
  body?: string;
  admin?: boolean;
}

/** Sends one fuzzed request and checks the answer's shape; returns the status. */
async function send(attempt: Attempt): Promise<number> {
  const url = new URL(`${base}${attempt.path}`);
  for (const [key, value] of attempt.query) url.searchParams.append(key, value);
  const headers: Record<string, string> = attempt.admin ? { 'x-api-key': cp.adminKey } : { authorization: `Bearer ${envKey}` };
  if (attempt.contentType !== undefined) headers['content-type'] = attempt.contentType;
  const before = await snapshot();
  const response = await fetch(url, { method: attempt.method, headers, ...(attempt.body === undefined ? {} : { body: attempt.body }) });
  const text = await response.text();
  expect(response.headers.get('request-id')).toMatch(/^req_/);
  expect(response.status, `${attempt.method} ${url.pathname}${url.search} -> ${response.status} ${text}`).toBeLessThan(500);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(text);
  if (response.status >= 400) {
    expect(body).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
    const message = (body as { error: { message: string } }).error.message;
    expect(message.length).toBeGreaterThan(0);
    if (response.status === 400) expect(namesTheProblem(message, attempt), message).toBe(true);
    expect(await snapshot()).toBe(before);
  }
  return response.status;
}

/** A 400's message names a field, the body, or the content type that was wrong. */
function namesTheProblem(message: string, attempt: Attempt): boolean {
  const names = [...attempt.query.map(([key]) => key), 'body', 'content-type', 'JSON', 'metadata', 'force', 'data'];
  if (attempt.body !== undefined) {
    try {
      const parsed: unknown = JSON.parse(attempt.body);
      if (parsed !== null && typeof parsed === 'object') names.push(...Object.keys(parsed));
    } catch {
      // Not JSON: the message must then speak of the body or of JSON, already listed.
    }
  }
  return names.some((name) => name.length > 0 && message.includes(name));
}

const numberish = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom('0', '-1', '1000', '999', '1', '1e3', '0x10', '1.5', 'NaN', 'Infinity', '', ' 5', '9'.repeat(40)),
  fc.double().map(String),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom(NO_HEARTBEAT, '', 'x'.repeat(300)));
function queryOf(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<Array<[string, string]>> {
  const knownPairs = Object.entries(known).map(([key, value]) => fc.option(value.map((v): [string, string] => [key, v]), { nil: undefined }));
  const extra = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), anyText), { maxLength: 2 });
  return fc.tuple(fc.tuple(...knownPairs), extra).map(([pairs, more]) => [...pairs.filter((p): p is [string, string] => p !== undefined), ...more]);
}
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('{', '{"force":', '[]', 'null', '{"force":"yes"}', '{"metadata":{"a":1}}', '{"metadata":null}', '\u0000', ''),
);
const contentType = fc.option(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x'),
  { nil: undefined },
);
const anyWorkId = fc.oneof(fc.integer({ min: 0, max: 3 }).map((i) => workIds[i]!), fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent));
/** Valid long waits are shortened so sixty polls stay quick; everything else is sent as generated. */
const shortenWait = ([key, value]: [string, string]): [string, string] =>
  key === 'block_ms' && /^\d+$/.test(value) && Number(value) > 50 && Number(value) <= 999 ? [key, '50'] : [key, value];
const RUNS = { numRuns: 60 };

describe('fuzzed requests to the control plane', () => {
  it('poll: any query', async () => {
    await fc.assert(
      fc.asyncProperty(queryOf({ block_ms: numberish, reclaim_older_than_ms: numberish, beta: fc.constant('true') }), async (query) => {
        // A valid poll may deliver an item; only a refused one must leave the store as it was.
        await send({ method: 'GET', path: '/work/poll', query: query.map(shortenWait) });
      }),
      RUNS,
    );
  });

  it('heartbeat: any query, any body', async () => {
    await fc.assert(
      fc.asyncProperty(anyWorkId, queryOf({ expected_last_heartbeat: anyText, desired_ttl_seconds: numberish }), fc.option(jsonBody, { nil: undefined }), contentType, async (id, query, body, type) => {
        await send({ method: 'POST', path: `/work/${id}/heartbeat`, query, ...(body === undefined ? {} : { body }), ...(type === undefined ? {} : { contentType: type }) });
      }),
      RUNS,
    );
  });

  it('ack: any query, any body', async () => {
    await fc.assert(
      fc.asyncProperty(anyWorkId, queryOf({ beta: fc.constant('true') }), fc.option(jsonBody, { nil: undefined }), contentType, async (id, query, body, type) => {
        await send({ method: 'POST', path: `/work/${id}/ack`, query, ...(body === undefined ? {} : { body }), ...(type === undefined ? {} : { contentType: type }) });
      }),
      RUNS,
    );
  });

  it('stop: any body and content type', async () => {
    await fc.assert(
      fc.asyncProperty(anyWorkId, queryOf({}), fc.option(jsonBody, { nil: undefined }), contentType, async (id, query, body, type) => {
        await send({ method: 'POST', path: `/work/${id}/stop`, query, ...(body === undefined ? {} : { body }), ...(type === undefined ? {} : { contentType: type }) });
      }),
      RUNS,
    );
  });

  it('update: any metadata patch', async () => {
    const patch = fc.oneof(
      fc.dictionary(fc.string({ unit: 'binary', maxLength: 70 }), fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.constant(null), fc.integer(), fc.boolean()), { maxKeys: 20 }).map((metadata) => JSON.stringify({ metadata })),
      jsonBody,
    );
    await fc.assert(
      fc.asyncProperty(anyWorkId, patch, contentType, fc.boolean(), async (id, body, type, admin) => {
        await send({ method: 'POST', path: `/work/${id}`, query: [], body, admin, ...(type === undefined ? {} : { contentType: type }) });
      }),
      RUNS,
    );
  });

  it('list, get and stats: any query', async () => {
    await fc.assert(
      fc.asyncProperty(anyWorkId, queryOf({ limit: numberish, page: anyText }), fc.constantFrom('list', 'get', 'stats'), async (id, query, which) => {
        const path = which === 'list' ? '/work' : which === 'get' ? `/work/${id}` : '/work/stats';
        await send({ method: 'GET', path, query });
      }),
      RUNS,
    );
  });

  it('enqueue: any body', async () => {
    const enqueueBody = fc.oneof(
      fc.record({ data: fc.option(fc.record({ type: fc.oneof(fc.constantFrom('session', 'healthcheck'), anyText), id: fc.option(anyText) }, { requiredKeys: [] })), metadata: fc.option(fc.dictionary(anyText, fc.oneof(anyText, fc.integer()), { maxKeys: 18 })), extra: fc.option(fc.integer()) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
      jsonBody,
    );
    await fc.assert(
      fc.asyncProperty(enqueueBody, contentType, async (body, type) => {
        await send({ method: 'POST', path: '/work', query: [], body, admin: true, ...(type === undefined ? {} : { contentType: type }) });
      }),
      RUNS,
    );
  });
});
