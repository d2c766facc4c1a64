import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkClient } from '../src/api/client.js';
import type { WorkClientOptions } from '../src/api/client-options.js';
import { WorkApiError } from '../src/api/errors.js';
import { apiError, FaultServer, hang, json, reset } from './support/fault-server.js';
import { ENV_ID, ENV_KEY, WORK_ID, workJson } from './support/fixtures.js';
import { CLOCK_START_MS, RecordingClock } from './support/recording-clock.js';

/** A distinctive attempt timeout, so the recording clock tells it apart from backoff sleeps. */
const ATTEMPT_TIMEOUT_MS = 600_000;

let server: FaultServer;
let clock: RecordingClock;
const clients: WorkClient[] = [];

beforeEach(async () => {
  server = await FaultServer.start();
  clock = new RecordingClock();
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
    clock,
    timeoutMs: ATTEMPT_TIMEOUT_MS,
    random: () => 0.5,
    retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000 },
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
  return err as WorkApiError;
}

describe('WorkClient retries (virtual time)', () => {
  it('retries 500, 529 and 429, sleeping what retry-after-ms, retry-after seconds and retry-after dates say', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    // The third answer names a date 12 s after the start; by then 250 ms + 3 s have passed.
    const retryAt = new Date(CLOCK_START_MS + 12_000).toUTCString();
    server.reply(
      apiError(500, 'api_error', 'boom', { 'retry-after-ms': '250' }),
      apiError(529, 'overloaded_error', 'busy', { 'retry-after': '3' }),
      apiError(429, 'rate_limit_error', 'slow down', { 'retry-after': retryAt }),
      json(200, workJson()),
    );
    await expect(makeClient().get(WORK_ID)).resolves.toEqual(workJson());
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toEqual([250, 3000, 8750]);
    expect(clock.virtual.pendingTimers()).toBe(0);
  });

  it('backs off with full jitter when the server names no delay, and gives up after maxRetries', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(...Array.from({ length: 4 }, () => apiError(503, 'api_error', 'down')));
    const err = await failure(makeClient().get(WORK_ID));
    expect(err.status).toBe(503);
    expect(server.requests).toHaveLength(4);
    // random() = 0.5 of ceilings 100, 200, 400 ms.
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('caps a retry-after beyond 60 s at 60 s', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(apiError(503, 'api_error', 'down', { 'retry-after': '3600' }), json(200, workJson()));
    await makeClient().get(WORK_ID);
    expect(sleeps).toEqual([60_000]);
  });

  it('takes a per-call maxRetries over the policy', async () => {
    clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(apiError(500, 'api_error', 'a'), apiError(500, 'api_error', 'b'), json(200, workJson()));
    const err = await failure(makeClient().get(WORK_ID, { maxRetries: 1 }));
    expect(err.message).toBe('get: 500 api_error: b');
    expect(server.requests).toHaveLength(2);
  });

  it('stops at once when x-should-retry: false, even on a 5xx', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(apiError(503, 'api_error', 'do not retry', { 'x-should-retry': 'false' }));
    const err = await failure(makeClient().get(WORK_ID));
    expect(err.shouldRetryHeader).toBe(false);
    expect(err.isTransient()).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a 4xx the server marks x-should-retry: true', async () => {
    clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(apiError(400, 'invalid_request_error', 'try again', { 'x-should-retry': 'true' }), json(200, workJson()));
    await expect(makeClient().get(WORK_ID)).resolves.toEqual(workJson());
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a 409 sent with x-should-retry: false (stop of a stopped item)', async () => {
    clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(apiError(409, 'conflict_error', 'already stopped', { 'x-should-retry': 'false' }));
    const err = await failure(makeClient().stop(WORK_ID, { force: true }));
    expect([err.status, err.type]).toEqual([409, 'conflict_error']);
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry fatal 4xx answers', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    const fatal: Array<[number, string]> = [
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [412, 'invalid_request_error'],
      [413, 'request_too_large'],
    ];
    const client = makeClient();
    for (const [index, [status, type]] of fatal.entries()) {
      server.reply(apiError(status, type, 'no'));
      const err = await failure(client.ack(WORK_ID));
      expect([err.status, err.type, err.isTransient()]).toEqual([status, type, false]);
      expect(server.requests).toHaveLength(index + 1);
    }
    expect(sleeps).toEqual([]);
  });

  it('retries a non-poll call after the connection was reset mid-request', async () => {
    clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(reset(), json(200, workJson({ state: 'starting' })));
    await expect(makeClient().ack(WORK_ID)).resolves.toMatchObject({ state: 'starting' });
    expect(server.requests).toHaveLength(2);
  });
});

describe('WorkClient poll retries', () => {
  it('does not retry a poll after a 500: an item may have been handed out', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(apiError(500, 'api_error', 'boom'));
    const err = await failure(makeClient().poll({ workerId: 'w' }));
    expect([err.status, err.isTransient()]).toEqual([500, true]);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a poll after a reset mid-request', async () => {
    clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(reset());
    const err = await failure(makeClient().poll({ workerId: 'w' }));
    expect([err.status, err.type, err.requestNotSent]).toEqual([null, 'connection_error', false]);
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a poll after a timeout', async () => {
    clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS + 500);
    server.reply(hang());
    const call = failure(makeClient().poll({ workerId: 'w', blockMs: 500 }));
    await server.waitForRequests(1);
    clock.advance(ATTEMPT_TIMEOUT_MS + 500);
    const err = await call;
    expect(err.type).toBe('timeout_error');
    expect(clock.requested).toEqual([ATTEMPT_TIMEOUT_MS + 500]);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a poll the server shed (429, 529)', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(
      apiError(529, 'overloaded_error', 'busy', { 'retry-after-ms': '20' }),
      apiError(429, 'rate_limit_error', 'slow', { 'retry-after': '1' }),
      json(200, null),
    );
    await expect(makeClient().poll({ workerId: 'w' })).resolves.toBeNull();
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([20, 1000]);
  });

  it('retries a poll whose connection was refused, since the request was never sent', async () => {
    const port = server.port;
    await server.close();
    let revived: FaultServer | undefined;
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS, async () => {
      revived = await FaultServer.start(port);
      revived.reply(json(200, workJson({ secret: 'c2VjcmV0' })));
    });
    try {
      await expect(makeClient({ baseUrl: `http://127.0.0.1:${port}` }).poll({ workerId: 'w' })).resolves.toMatchObject({
        id: WORK_ID,
      });
      expect(sleeps).toEqual([50]);
      expect(revived?.requests).toHaveLength(1);
    } finally {
      await revived?.close();
      server = await FaultServer.start();
    }
  });

  it('marks a refused connection as never sent', async () => {
    const port = server.port;
    await server.close();
    try {
      const err = await failure(makeClient({ baseUrl: `http://127.0.0.1:${port}` }).poll({ workerId: 'w' }, { maxRetries: 0 }));
      expect([err.type, err.status, err.requestNotSent, err.isTransient()]).toEqual(['connection_error', null, true, true]);
      expect(err.message).toBe('poll: connection failed (ECONNREFUSED)');
    } finally {
      server = await FaultServer.start();
    }
  });
});

describe('WorkClient timeouts and aborts (virtual time)', () => {
  it('times out an unanswered call on the clock with a transient timeout_error', async () => {
    server.reply(hang());
    const call = failure(makeClient().get(WORK_ID, { maxRetries: 0, timeoutMs: 1234 }));
    await server.waitForRequests(1);
    expect(clock.requested).toEqual([1234]);
    clock.advance(1234);
    const err = await call;
    expect([err.type, err.status, err.isTransient()]).toEqual(['timeout_error', null, true]);
    expect(err.message).toBe('get: no complete answer within 1234 ms');
    expect(clock.virtual.pendingTimers()).toBe(0);
  });

  it('adds a poll\'s blockMs to its timeout', async () => {
    server.reply(json(200, null));
    await makeClient({ timeoutMs: 1000 }).poll({ workerId: 'w', blockMs: 999 });
    expect(clock.requested).toEqual([1999]);
  });

  it('retries a timed-out non-poll call', async () => {
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS);
    server.reply(hang(), json(200, workJson()));
    const call = makeClient().get(WORK_ID);
    await server.waitForRequests(1);
    clock.advance(ATTEMPT_TIMEOUT_MS);
    await expect(call).resolves.toEqual(workJson());
    expect(sleeps).toEqual([50]);
    expect(server.requests).toHaveLength(2);
  });

  it('rejects with a non-transient aborted error when the caller aborts a call in flight', async () => {
    server.reply(hang());
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const call = failure(makeClient().get(WORK_ID, { signal: controller.signal }));
    await server.waitForRequests(1);
    controller.abort(reason);
    const err = await call;
    expect([err.type, err.status, err.isTransient()]).toEqual(['aborted', null, false]);
    expect(err.cause).toBe(reason);
    expect(clock.virtual.pendingTimers()).toBe(0);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const err = await failure(makeClient().get(WORK_ID, { signal: AbortSignal.abort() }));
    expect(err.type).toBe('aborted');
    expect(server.requests).toHaveLength(0);
  });

  it('ends a backoff sleep on abort without another attempt', async () => {
    const controller = new AbortController();
    const sleeps = clock.autoAdvanceSleeps(ATTEMPT_TIMEOUT_MS, async () => controller.abort());
    server.reply(apiError(503, 'api_error', 'down', { 'retry-after': '10' }), json(200, workJson()));
    const err = await failure(makeClient().get(WORK_ID, { signal: controller.signal }));
    expect(err.type).toBe('aborted');
    expect(sleeps).toEqual([10_000]);
    expect(server.requests).toHaveLength(1);
    expect(clock.virtual.pendingTimers()).toBe(0);
  });
});
