import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkClient } from '../src/api/client.js';
import type { CallOptions, WorkClientOptions } from '../src/api/client-options.js';
import { FaultServer, json, type RecordedRequest } from './support/fault-server.js';
import {
  API_KEY,
  ENV_ID,
  ENV_KEY,
  environmentJson,
  FIXED_HEADERS,
  heartbeatJson,
  SESSIONS_TOKEN,
  sentHeaders,
  statsJson,
  WORK_ID,
  workJson,
} from './support/fixtures.js';

let server: FaultServer;
const clients: WorkClient[] = [];

beforeEach(async () => {
  server = await FaultServer.start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await server.close();
});

function makeClient(overrides: Partial<WorkClientOptions> = {}): WorkClient {
  const client = new WorkClient({
    baseUrl: server.url,
    environmentId: ENV_ID,
    environmentKey: ENV_KEY,
    retry: { maxRetries: 0 },
    ...overrides,
  });
  clients.push(client);
  return client;
}

function only(): RecordedRequest {
  expect(server.requests).toHaveLength(1);
  return server.requests[0] as RecordedRequest;
}

const WORK_PATH = `/v1/environments/${ENV_ID}/work`;
const BEARER_ENV = { authorization: `Bearer ${ENV_KEY}` };
/** The headers of a JSON body, its length counted in bytes. */
const jsonHeaders = (body: string) => ({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });

interface Shape {
  name: string;
  call: (client: WorkClient) => Promise<unknown>;
  answer: { status: number; body: unknown };
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

const SHAPES: Shape[] = [
  {
    name: 'poll',
    call: (c) => c.poll({ workerId: 'host-1-uuid', blockMs: 900, reclaimOlderThanMs: 3000 }),
    answer: { status: 200, body: workJson({ secret: 'c2VjcmV0' }) },
    method: 'GET',
    path: `${WORK_PATH}/poll`,
    query: { block_ms: '900', reclaim_older_than_ms: '3000' },
    headers: { ...BEARER_ENV, 'anthropic-worker-id': 'host-1-uuid' },
    body: '',
  },
  {
    name: 'get',
    call: (c) => c.get(WORK_ID),
    answer: { status: 200, body: workJson() },
    method: 'GET',
    path: `${WORK_PATH}/${WORK_ID}`,
    headers: BEARER_ENV,
    body: '',
  },
  {
    name: 'ack (empty body: content-length 0, no content type)',
    call: (c) => c.ack(WORK_ID),
    answer: { status: 200, body: workJson({ state: 'starting' }) },
    method: 'POST',
    path: `${WORK_PATH}/${WORK_ID}/ack`,
    headers: { ...BEARER_ENV, 'content-length': '0' },
    body: '',
  },
  {
    name: 'heartbeat (query parameters, empty body)',
    call: (c) => c.heartbeat(WORK_ID, { expectedLastHeartbeat: 'NO_HEARTBEAT', desiredTtlSeconds: 60 }),
    answer: { status: 200, body: heartbeatJson() },
    method: 'POST',
    path: `${WORK_PATH}/${WORK_ID}/heartbeat`,
    query: { expected_last_heartbeat: 'NO_HEARTBEAT', desired_ttl_seconds: '60' },
    headers: { ...BEARER_ENV, 'content-length': '0' },
    body: '',
  },
  {
    name: 'stop without force (body {})',
    call: (c) => c.stop(WORK_ID),
    answer: { status: 200, body: workJson({ state: 'stopped' }) },
    method: 'POST',
    path: `${WORK_PATH}/${WORK_ID}/stop`,
    headers: { ...BEARER_ENV, 'content-type': 'application/json', 'content-length': '2' },
    body: '{}',
  },
  {
    name: 'stop with force',
    call: (c) => c.stop(WORK_ID, { force: true }),
    answer: { status: 200, body: workJson({ state: 'stopped' }) },
    method: 'POST',
    path: `${WORK_PATH}/${WORK_ID}/stop`,
    headers: { ...BEARER_ENV, ...jsonHeaders('{"force":true}') },
    body: '{"force":true}',
  },
  {
    name: 'list',
    call: (c) => c.list({ limit: 5, page: 'cursor-1' }),
    answer: { status: 200, body: { data: [workJson()], next_page: null } },
    method: 'GET',
    path: WORK_PATH,
    query: { limit: '5', page: 'cursor-1' },
    headers: BEARER_ENV,
    body: '',
  },
  {
    name: 'update',
    call: (c) => c.update(WORK_ID, { owner: 'me', stale: null }),
    answer: { status: 200, body: workJson({ metadata: { owner: 'me' } }) },
    method: 'POST',
    path: `${WORK_PATH}/${WORK_ID}`,
    headers: { ...BEARER_ENV, ...jsonHeaders('{"metadata":{"owner":"me","stale":null}}') },
    body: '{"metadata":{"owner":"me","stale":null}}',
  },
  {
    name: 'stats',
    call: (c) => c.stats(),
    answer: { status: 200, body: statsJson() },
    method: 'GET',
    path: `${WORK_PATH}/stats`,
    headers: BEARER_ENV,
    body: '',
  },
  {
    name: 'enqueue (admin key)',
    call: (c) => c.enqueue({ data: { type: 'healthcheck' }, metadata: { k: 'v' } }),
    answer: { status: 201, body: workJson({ data: { type: 'healthcheck', id: 'hc_1' } }) },
    method: 'POST',
    path: WORK_PATH,
    headers: { 'x-api-key': API_KEY, ...jsonHeaders('{"data":{"type":"healthcheck"},"metadata":{"k":"v"}}') },
    body: '{"data":{"type":"healthcheck"},"metadata":{"k":"v"}}',
  },
  {
    name: 'createEnvironment (admin key)',
    call: (c) => c.createEnvironment({ name: 'dev' }),
    answer: { status: 201, body: environmentJson() },
    method: 'POST',
    path: '/v1/environments',
    headers: { 'x-api-key': API_KEY, ...jsonHeaders('{"name":"dev","config":{"type":"self_hosted"}}') },
    body: '{"name":"dev","config":{"type":"self_hosted"}}',
  },
];

describe('WorkClient requests (against a scripted fault server)', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: sends exactly the contract's method, path, query, headers and body`, async () => {
      server.reply(json(shape.answer.status, shape.answer.body));
      const client = makeClient({ apiKey: API_KEY });
      await expect(shape.call(client)).resolves.toEqual(shape.answer.body);
      const request = only();
      expect(request.method).toBe(shape.method);
      expect(request.path).toBe(shape.path);
      expect(Object.fromEntries(request.query)).toEqual(shape.query ?? {});
      expect(sentHeaders(request.headers)).toEqual({ ...FIXED_HEADERS, ...shape.headers });
      expect(request.body).toBe(shape.body);
    });
  }

  it('answers null for an empty poll (200 null)', async () => {
    server.reply(json(200, null));
    await expect(makeClient().poll({ workerId: 'w-1' })).resolves.toBeNull();
    expect(Object.fromEntries(only().query)).toEqual({});
  });

  it('keeps unknown fields of an answer (loose schemas)', async () => {
    server.reply(json(200, workJson({ added_later: { x: 1 } })));
    await expect(makeClient().get(WORK_ID)).resolves.toMatchObject({ added_later: { x: 1 } });
  });

  it('puts user betas first, comma-joined, and takes a custom user agent', async () => {
    server.reply(json(200, statsJson()));
    await makeClient({ betas: ['files-api-2025-04-14', 'other-beta'], userAgent: 'my-host/2.0' }).stats();
    const headers = only().headers;
    expect(headers['anthropic-beta']).toBe('files-api-2025-04-14,other-beta,managed-agents-2026-04-01');
    expect(headers['user-agent']).toBe('my-host/2.0');
  });

  it('encodes path segments and keeps a base path prefix', async () => {
    server.reply(json(200, workJson()));
    const client = makeClient({ baseUrl: `${server.url}/proxy/`, environmentId: 'env a/b' });
    await client.ack('work/../x?y#z');
    expect(only().path).toBe('/proxy/v1/environments/env%20a%2Fb/work/work%2F..%2Fx%3Fy%23z/ack');
  });
});

describe('WorkClient credentials', () => {
  it('sends the per-call credential (the sessions token) for heartbeat and stop', async () => {
    server.reply(json(200, heartbeatJson()), json(200, workJson({ state: 'stopped' })));
    const client = makeClient({ apiKey: API_KEY });
    await client.heartbeat(WORK_ID, { expectedLastHeartbeat: 'NO_HEARTBEAT' }, { credential: SESSIONS_TOKEN });
    await client.stop(WORK_ID, { force: true }, { credential: SESSIONS_TOKEN });
    for (const request of server.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${SESSIONS_TOKEN}`);
      expect(request.headers['x-api-key']).toBeUndefined();
    }
  });

  it('uses the operator key as x-api-key for get, list, update, stats and stop when no environment key is set', async () => {
    server.reply(
      json(200, workJson()),
      json(200, { data: [], next_page: null }),
      json(200, workJson()),
      json(200, statsJson()),
      json(200, workJson({ state: 'stopped' })),
    );
    const client = makeClient({ environmentKey: undefined, apiKey: API_KEY });
    await client.get(WORK_ID);
    await client.list();
    await client.update(WORK_ID, { a: 'b' });
    await client.stats();
    await client.stop(WORK_ID);
    expect(server.requests).toHaveLength(5);
    for (const request of server.requests) {
      expect(request.headers['x-api-key']).toBe(API_KEY);
      expect(request.headers.authorization).toBeUndefined();
    }
  });

  it('never sends authorization and x-api-key together, whatever is configured', async () => {
    const calls: Array<(c: WorkClient, o: CallOptions) => Promise<unknown>> = [
      (c, o) => c.poll({ workerId: 'w' }, o),
      (c, o) => c.get(WORK_ID, o),
      (c, o) => c.ack(WORK_ID, o),
      (c, o) => c.heartbeat(WORK_ID, {}, o),
      (c, o) => c.stop(WORK_ID, {}, o),
      (c, o) => c.list({}, o),
      (c, o) => c.update(WORK_ID, {}, o),
      (c, o) => c.stats(o),
      (c, o) => c.enqueue({}, o),
      (c, o) => c.createEnvironment({ name: 'n' }, o),
    ];
    const configs: Array<Partial<WorkClientOptions>> = [
      { environmentKey: ENV_KEY },
      { environmentKey: undefined, apiKey: API_KEY },
      { environmentKey: ENV_KEY, apiKey: API_KEY },
    ];
    let sent = 0;
    for (const config of configs) {
      const client = makeClient(config);
      for (const call of calls) {
        for (const options of [{}, { credential: SESSIONS_TOKEN }]) {
          // The fault server answers unscripted requests with a 418; only the headers matter here.
          const outcome = await call(client, options).then(
            () => 'answered',
            (err: unknown) => (err instanceof Error && err.name === 'WorkApiError' ? 'answered' : 'refused'),
          );
          if (outcome === 'answered') sent++;
        }
      }
    }
    expect(server.requests).toHaveLength(sent);
    expect(sent).toBeGreaterThan(40);
    for (const request of server.requests) {
      const hasBearer = request.headers.authorization !== undefined;
      const hasApiKey = request.headers['x-api-key'] !== undefined;
      expect(hasBearer !== hasApiKey).toBe(true);
    }
  });

  it('refuses a call without a usable credential before any I/O, naming what is missing and no key', async () => {
    const envOnly = makeClient({ environmentKey: ENV_KEY });
    const apiOnly = makeClient({ environmentKey: undefined, apiKey: API_KEY });
    const none = makeClient({ environmentKey: undefined });
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [apiOnly.poll({ workerId: 'w' }), /WorkClient\.poll needs the environment key: set options\.environmentKey/],
      [apiOnly.ack(WORK_ID), /WorkClient\.ack needs the environment key/],
      [apiOnly.heartbeat(WORK_ID), /WorkClient\.heartbeat needs a credential: .*callOptions\.credential.*options\.environmentKey/],
      [none.get(WORK_ID), /WorkClient\.get needs a credential: set options\.environmentKey or options\.apiKey/],
      [envOnly.enqueue(), /WorkClient\.enqueue needs the admin key: set options\.apiKey/],
      [envOnly.createEnvironment({ name: 'x' }), /WorkClient\.createEnvironment needs the admin key/],
    ];
    for (const [call, message] of cases) {
      const err = await call.then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(message);
      expect(err?.message).not.toContain(ENV_KEY);
      expect(err?.message).not.toContain(API_KEY);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('needs environmentId for work calls but not for createEnvironment', async () => {
    server.reply(json(201, environmentJson()));
    const client = makeClient({ environmentId: undefined, apiKey: API_KEY });
    await expect(client.get(WORK_ID)).rejects.toThrow(/WorkClient\.get needs the environment id: set options\.environmentId/);
    expect(server.requests).toHaveLength(0);
    await expect(client.createEnvironment({ name: 'dev' })).resolves.toMatchObject({ environment_key: ENV_KEY });
  });
});

describe('WorkClient input checks', () => {
  it('rejects bad client options with an error naming the option and never its value', () => {
    const secretish = 'SECRET with space';
    const cases: Array<[Partial<WorkClientOptions>, RegExp]> = [
      [{ baseUrl: 'ftp://example.com' }, /baseUrl must be an absolute http: or https: URL/],
      [{ baseUrl: 'not a url' }, /baseUrl/],
      [{ baseUrl: `http://user:${secretish}@example.com` }, /baseUrl must not carry user info/],
      [{ baseUrl: 'http://example.com/?a=1' }, /baseUrl must not have a query/],
      [{ environmentId: '' }, /environmentId must be a non-empty string/],
      [{ environmentKey: secretish }, /environmentKey must be a non-empty string of visible ASCII/],
      [{ apiKey: `${secretish}\n` }, /apiKey must be/],
      [{ betas: ['a,b'] }, /betas\[0\] must be a beta name/],
      [{ userAgent: '' }, /userAgent must be/],
      [{ timeoutMs: 0 }, /timeoutMs must be an integer between 1 and/],
      [{ retry: { maxRetries: -1 } }, /retry\.maxRetries must be an integer/],
      [{ clock: {} as never }, /clock\.now must be a function/],
      [{ random: 5 as never }, /random must be a function/],
      [{ maxConnections: 0 }, /maxConnections must be an integer >= 1/],
      [{ maxConnections: 2, dispatcher: new Agent() }, /maxConnections applies only to the client's own agent/],
    ];
    for (const [overrides, message] of cases) {
      let caught: unknown;
      try {
        makeClient(overrides);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(Error);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain('SECRET');
    }
  });

  it('rejects bad call parameters before any I/O, naming the parameter', async () => {
    const client = makeClient({ apiKey: API_KEY });
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => client.poll({ workerId: '' }), /workerId must be/],
      [() => client.poll({ workerId: 'w', blockMs: 0 }), /blockMs must be an integer between 1 and 999/],
      [() => client.poll({ workerId: 'w', blockMs: 1000 }), /blockMs must be an integer between 1 and 999/],
      [() => client.poll({ workerId: 'w', reclaimOlderThanMs: 0 }), /reclaimOlderThanMs must be an integer >= 1/],
      [() => client.get(''), /workId must be a non-empty string/],
      [() => client.heartbeat(WORK_ID, { expectedLastHeartbeat: 'yesterday' }), /expectedLastHeartbeat must be NO_HEARTBEAT or/],
      [() => client.heartbeat(WORK_ID, { desiredTtlSeconds: 0 }), /desiredTtlSeconds must be an integer >= 1/],
      [() => client.stop(WORK_ID, { force: 'yes' as never }), /force must be a boolean/],
      [() => client.list({ limit: 101 }), /limit must be an integer between 1 and 100/],
      [() => client.list({ page: '' }), /page must be a non-empty string/],
      [() => client.update(WORK_ID, { k: 5 as never }), /patch\["k"\] must be a string or null/],
      [() => client.update(WORK_ID, { ['k'.repeat(65)]: 'v' }), /patch keys must be at most 64 characters/],
      [() => client.update(WORK_ID, { k: 'v'.repeat(513) }), /patch\["k"\] must be at most 512 characters/],
      [() => client.enqueue({ data: { type: 'other' as never } }), /data\.type must be 'session' or 'healthcheck'/],
      [() => client.createEnvironment({ name: '' }), /name must be a non-empty string/],
      [() => client.get(WORK_ID, { timeoutMs: -1 }), /timeoutMs must be an integer/],
      [() => client.get(WORK_ID, { maxRetries: 1.5 }), /maxRetries must be an integer/],
      [() => client.get(WORK_ID, { credential: 'has space' }), /credential must be a non-empty string of visible ASCII/],
      [() => client.get(WORK_ID, { signal: {} as never }), /signal must be an AbortSignal/],
    ];
    for (const [call, message] of cases) await expect(call()).rejects.toThrow(message);
    expect(() => client.listAll({ limit: 0 })).toThrow(/limit must be an integer between 1 and 100/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('WorkClient connections', () => {
  it('reuses one keep-alive connection, and maxConnections: 1 holds concurrent calls to one', async () => {
    server.reply(json(200, statsJson()), json(200, statsJson()), json(200, statsJson()));
    const client = makeClient({ maxConnections: 1 });
    await Promise.all([client.stats(), client.stats(), client.stats()]);
    const ports = new Set(server.requests.map((request) => request.remotePort));
    expect(server.requests).toHaveLength(3);
    expect(ports.size).toBe(1);
  });

  it('fails calls after close, and leaves a dispatcher passed in open', async () => {
    server.reply(json(200, statsJson()));
    const dispatcher = new Agent();
    try {
      const first = makeClient({ dispatcher });
      await first.close();
      await expect(first.stats()).rejects.toThrow(/WorkClient\.stats: the client is closed/);
      await expect(makeClient({ dispatcher }).stats()).resolves.toEqual(statsJson());
    } finally {
      await dispatcher.close();
    }
  });
});
