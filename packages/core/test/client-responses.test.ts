import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkClient } from '../src/api/client.js';
import type { WorkClientOptions } from '../src/api/client-options.js';
import { WorkApiError } from '../src/api/errors.js';
import { apiError, FaultServer, json, raw, truncated } from './support/fault-server.js';
import { ENV_ID, ENV_KEY, heartbeatJson, WORK_ID, workJson } from './support/fixtures.js';
import { RecordingClock } from './support/recording-clock.js';

/** Stands for a credential inside a response body: no error message may ever contain it. */
const MARKER = 'SECRET-MARKER-in-the-body';

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

async function failure(call: Promise<unknown>): Promise<WorkApiError> {
  const err = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkApiError);
  const apiErr = err as WorkApiError;
  expect(apiErr.message).not.toContain(MARKER);
  expect(apiErr.message).not.toContain(ENV_KEY);
  return apiErr;
}

describe('WorkClient answer validation', () => {
  it('names the field of a wrong type, and quotes nothing of the body', async () => {
    server.reply(json(200, { ...heartbeatJson({ ttl_seconds: '10' }), note: MARKER }));
    const err = await failure(makeClient().heartbeat(WORK_ID, { expectedLastHeartbeat: 'NO_HEARTBEAT' }));
    expect([err.status, err.type, err.isTransient()]).toEqual([200, 'invalid_response', false]);
    expect(err.message).toBe('response of heartbeat: ttl_seconds: expected number, received string');
    expect(err.requestId).toBe('req_fault_1');
  });

  it('lists several bad fields with their paths, never their values', async () => {
    server.reply(json(200, workJson({ state: MARKER, data: { type: 'session', id: 7 }, secret: 42, metadata: { k: MARKER.length } })));
    const err = await failure(makeClient().get(WORK_ID));
    expect(err.message).toMatch(/^response of get: /);
    expect(err.message).toContain('data.id: expected string, received number');
    expect(err.message).toContain('state: ');
    expect(err.message).toMatch(/\(and \d+ more\)$/);
  });

  it('refuses a body that is not JSON', async () => {
    server.reply(raw(200, 'application/json', `{"type":"work","secret":"${MARKER}"`));
    const err = await failure(makeClient().get(WORK_ID));
    expect([err.status, err.type]).toEqual([200, 'invalid_response']);
    expect(err.message).toBe('response of get: the body is not valid JSON');
  });

  it('refuses a body cut short by the connection (content-length larger than what came)', async () => {
    const partial = `{"type":"work","secret":"${MARKER}"`;
    server.reply(truncated(200, partial, partial.length + 200));
    const err = await failure(makeClient().poll({ workerId: 'w' }));
    expect([err.status, err.type, err.truncated]).toEqual([200, 'invalid_response', true]);
    expect(err.message).toBe('response of poll: the connection closed before the whole body arrived');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a cut-short body on a call that may be repeated', async () => {
    const clock = new RecordingClock();
    const sleeps = clock.autoAdvanceSleeps(600_000);
    server.reply(truncated(200, '{"type":', 300), json(200, workJson()));
    const client = makeClient({ clock, timeoutMs: 600_000, random: () => 0.5, retry: { maxRetries: 1, baseDelayMs: 100 } });
    await expect(client.get(WORK_ID)).resolves.toEqual(workJson());
    expect(sleeps).toEqual([50]);
  });

  it('refuses a 2xx with another content type, or with no body', async () => {
    server.reply(raw(200, 'text/html; charset=utf-8', `<html>${MARKER}</html>`), raw(200, 'application/json', ''));
    const client = makeClient();
    expect((await failure(client.stats())).message).toBe(
      'response of stats: expected content-type application/json, got text/html; charset=utf-8',
    );
    expect((await failure(client.stats())).message).toBe('response of stats: the body is empty');
  });

  it('accepts a JSON content type with parameters', async () => {
    server.reply(raw(200, 'application/json; charset=utf-8', JSON.stringify(workJson())));
    await expect(makeClient().get(WORK_ID)).resolves.toEqual(workJson());
  });
});

describe('WorkClient error answers', () => {
  it('carries the envelope\'s type and message, the status and the request id', async () => {
    server.reply(apiError(404, 'not_found_error', 'no such work item'));
    const err = await failure(makeClient().get(WORK_ID));
    expect([err.status, err.type, err.requestId, err.operation]).toEqual([404, 'not_found_error', 'req_fault_1', 'get']);
    expect(err.message).toBe('get: 404 not_found_error: no such work item');
  });

  it('derives the type of an error answer without an envelope (an HTML 502 from a proxy) from its status', async () => {
    server.reply(raw(502, 'text/html', `<html><body>Bad gateway ${MARKER}</body></html>`));
    const err = await failure(makeClient().get(WORK_ID));
    expect([err.status, err.type, err.isTransient(), err.details]).toEqual([502, 'api_error', true, null]);
    expect(err.message).toBe('get: 502 api_error: the answer carries no error envelope');
  });

  it('types the details of a 412 precondition failure', async () => {
    const currentState = { state: 'active', last_heartbeat: '2026-11-28T17:00:09.000001Z', lease_extended: true, ttl_seconds: 60 };
    server.reply(
      apiError(412, 'invalid_request_error', 'heartbeat precondition failed', {}, {
        error_code: 'heartbeat_precondition_failed',
        current_state: currentState,
      }),
    );
    const err = await failure(makeClient().heartbeat(WORK_ID, { expectedLastHeartbeat: '2026-11-28T17:00:01.000001Z' }));
    expect(err.isPreconditionFailed()).toBe(true);
    expect(err.currentState).toEqual(currentState);
    expect(err.isTransient()).toBe(false);
  });

  it('keeps the server\'s retry headers on the error', async () => {
    server.reply(apiError(429, 'rate_limit_error', 'slow', { 'retry-after': '2', 'x-should-retry': 'true' }));
    const err = await failure(makeClient().stats());
    expect([err.retryAfterMs, err.shouldRetryHeader]).toEqual([2000, true]);
  });

  it('never repeats the credential in an authentication error', async () => {
    server.reply(apiError(401, 'authentication_error', 'unknown credential'));
    const err = await failure(makeClient().ack(WORK_ID));
    expect(err.message).toBe('ack: 401 authentication_error: unknown credential');
  });
});

describe('WorkClient.listAll', () => {
  const page = (ids: string[], next: string | null) => json(200, { data: ids.map((id) => workJson({ id })), next_page: next });

  it('walks every page in order, passing each cursor on', async () => {
    server.reply(page(['work_1', 'work_2'], 'c1'), page(['work_3'], 'c2'), page(['work_4'], null));
    const ids: string[] = [];
    for await (const work of makeClient().listAll({ limit: 2 })) ids.push(work.id);
    expect(ids).toEqual(['work_1', 'work_2', 'work_3', 'work_4']);
    expect(server.requests.map((request) => Object.fromEntries(request.query))).toEqual([
      { limit: '2' },
      { limit: '2', page: 'c1' },
      { limit: '2', page: 'c2' },
    ]);
  });

  it('fetches a page only when the previous one is consumed', async () => {
    server.reply(page(['work_1', 'work_2'], 'c1'));
    for await (const work of makeClient().listAll()) {
      expect(work.id).toBe('work_1');
      break;
    }
    expect(server.requests).toHaveLength(1);
  });

  it('detects a server repeating a cursor instead of looping forever', async () => {
    server.reply(page(['work_1'], 'c1'), page(['work_2'], 'c2'), page(['work_3'], 'c1'));
    const ids: string[] = [];
    const walk = async (): Promise<void> => {
      for await (const work of makeClient().listAll()) ids.push(work.id);
    };
    const err = await failure(walk());
    expect(err.type).toBe('invalid_response');
    expect(err.message).toBe('response of list: next_page repeats an earlier cursor, so the listing would never end');
    expect(ids).toEqual(['work_1', 'work_2', 'work_3']);
    expect(server.requests).toHaveLength(3);
  });
});
