/**
 * The operational endpoints (`/healthz`, `/readyz`, `/metrics`) and the request log: probes answer
 * without credentials, readiness follows the store, metrics count what was served, and no
 * credential or secret reaches a log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_HEARTBEAT } from '@envworker/core';
import { MemoryWorkStore, startControlPlane, type ControlPlane, type WorkStore } from '../src/index.js';
import { call, errorOf } from './http-harness.js';

let cp: ControlPlane;

beforeAll(async () => {
  cp = await startControlPlane();
});

afterAll(async () => {
  await cp?.close();
});

describe('probes', () => {
  it('answers /healthz with 200 {"status":"ok"} and no credential', async () => {
    const answer = await call(`${cp.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 while the store answers', async () => {
    const answer = await call(`${cp.url}/readyz`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 once the store stops answering', async () => {
    /**
     * A fake: a store whose ping fails from a given moment, as an unreachable remote store's would.
     * The memory store cannot become unreachable on demand; everything else is a real one.
     */
    const real = new MemoryWorkStore();
    let reachable = true;
    const unreachableStore: WorkStore = {
      createEnvironment: (input) => real.createEnvironment(input),
      getEnvironment: (id) => real.getEnvironment(id),
      resolveBearer: (credential) => real.resolveBearer(credential),
      enqueue: (id, input) => real.enqueue(id, input),
      poll: (id, input) => real.poll(id, input),
      get: (id, workId) => real.get(id, workId),
      ack: (id, workId) => real.ack(id, workId),
      heartbeat: (id, workId, input) => real.heartbeat(id, workId, input),
      stop: (id, workId, input) => real.stop(id, workId, input),
      list: (id, input) => real.list(id, input),
      update: (id, workId, patch) => real.update(id, workId, patch),
      stats: (id) => real.stats(id),
      ping: async () => {
        if (!reachable) throw new Error('connection refused');
      },
      close: () => real.close(),
    };
    const own = await startControlPlane({ store: unreachableStore });
    try {
      expect((await call(`${own.url}/readyz`)).status).toBe(200);
      reachable = false;
      const answer = await call(`${own.url}/readyz`);
      expect(answer.status).toBe(503);
      expect(errorOf(answer).type).toBe('api_error');
      expect((await call(`${own.url}/healthz`)).status).toBe(200);
    } finally {
      await own.close();
      await real.close();
    }
  });
});

describe('/metrics', () => {
  it('serves Prometheus text with requests by route and status, durations and waiting polls', async () => {
    const stats = `${cp.url}/v1/environments/${cp.environments[0]!.id}/work/stats`;
    await call(stats, { headers: { authorization: `Bearer ${cp.environments[0]!.key}` } });
    await call(stats);
    const answer = await call(`${cp.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    const route = '/v1/environments/:environmentId/work/stats';
    expect(answer.text).toContain(`envworker_control_plane_requests_total{route="${route}",method="GET",status="200"} 1`);
    expect(answer.text).toContain(`envworker_control_plane_requests_total{route="${route}",method="GET",status="401"} 1`);
    expect(answer.text).toContain(`envworker_control_plane_request_duration_seconds_count{route="${route}",method="GET"} 2`);
    expect(answer.text).toMatch(/^envworker_control_plane_waiting_polls 0$/m);
  });

  it('keeps the metrics of two servers in one process apart', async () => {
    const [quiet, busy] = await Promise.all([startControlPlane(), startControlPlane()]);
    try {
      await call(`${busy.url}/healthz`);
      await call(`${busy.url}/healthz`);
      const busyText = (await call(`${busy.url}/metrics`)).text;
      const quietText = (await call(`${quiet.url}/metrics`)).text;
      expect(busyText).toContain('envworker_control_plane_requests_total{route="/healthz",method="GET",status="200"} 2');
      expect(quietText).not.toContain('route="/healthz"');
    } finally {
      await Promise.all([quiet.close(), busy.close()]);
    }
  });
});

describe('the request log', () => {
  it('logs requests without any credential, sessions token or poll body', async () => {
    const lines: string[] = [];
    const logged = await startControlPlane({ logger: { level: 'trace', stream: { write: (line: string) => lines.push(line) } } });
    try {
      const environment = logged.environments[0]!;
      const base = `${logged.url}/v1/environments/${environment.id}`;
      const key = { authorization: `Bearer ${environment.key}` };
      await logged.enqueue();
      const polled = await call(`${base}/work/poll`, { headers: key });
      const work = polled.body as { id: string; secret: string };
      await call(`${base}/work/${work.id}/ack`, { method: 'POST', headers: key });
      await call(`${base}/work/${work.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, { method: 'POST', headers: key });
      await call(`${base}/work/stats`, { headers: { 'x-api-key': logged.adminKey } });
      const log = lines.join('');
      expect(lines.length).toBeGreaterThan(0);
      expect(log).toContain(work.id);
      for (const secret of [environment.key, logged.adminKey, work.secret]) expect(log).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });
});
