/**
 * The load tool of the capacity benchmark against a real HTTP server on 127.0.0.1: the lanes'
 * scripts, the exact count of answers, the split by kind, and the deadline.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad, type Lane } from '../src/infra/load-tool.js';

let server: Server | undefined;

/** A server that answers each request with `handle`'s status and body, or never when it returns null. */
async function serve(handle: (path: string) => { status: number; body: string } | null): Promise<string> {
  server = createServer((request, response) => {
    const answer = handle(request.url ?? '');
    if (answer === null) return;
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

describe('runLoad', () => {
  it('builds each request of a lane from the answer to its previous one, and collects exactly the amount of answers', async () => {
    const seen: string[] = [];
    // The server hands out the next step number; a lane must echo it in its following request.
    const origin = await serve((path) => {
      seen.push(path);
      const step = Number(path.split('/')[3]);
      return { status: 200, body: JSON.stringify({ next: step + 1 }) };
    });
    const lanes: { index: number; steps: number[] }[] = [];
    function lane(index: number): Lane {
      let step = 0;
      const record = { index, steps: [] as number[] };
      lanes.push(record);
      return {
        next: () => {
          record.steps.push(step);
          return { method: 'GET', path: `/lane/${index}/${step}`, headers: {} };
        },
        answer: (status, body) => {
          step = (JSON.parse(body) as { next: number }).next;
          return { kind: 'step', ok: status === 200 };
        },
      };
    }
    const outcome = await runLoad([{ origin, connections: 4, amount: 40, lane }], 10_000);
    expect(outcome.answers).toBe(40);
    expect(outcome.cutOff).toBe(false);
    expect(outcome.unanswered).toBe(0);
    expect(outcome.byKind.get('step')).toEqual({ latenciesMs: expect.any(Array), failed: 0 });
    expect(outcome.byKind.get('step')!.latenciesMs).toHaveLength(40);
    expect(lanes.map((l) => l.index).sort()).toEqual([0, 1, 2, 3]);
    for (const { index, steps } of lanes) {
      expect(steps).toEqual(Array.from({ length: 10 }, (_, i) => i));
      expect(seen.filter((path) => path.startsWith(`/lane/${index}/`))).toEqual(steps.map((step) => `/lane/${index}/${step}`));
    }
    expect(outcome.elapsedMs).toBeGreaterThan(0);
  });

  it('counts the answers its lanes judge not as expected, by kind', async () => {
    const origin = await serve((path) => (path === '/bad' ? { status: 500, body: '{}' } : { status: 200, body: 'null' }));
    let sent = 0;
    const lane = (): Lane => {
      let last = '';
      return {
        next: () => {
          sent += 1;
          last = sent % 2 === 0 ? '/bad' : '/good';
          return { method: 'POST', path: last, headers: { 'content-length': '0' } };
        },
        answer: (status) => ({ kind: last === '/bad' ? 'bad' : 'good', ok: status === 200 }),
      };
    };
    const outcome = await runLoad([{ origin, connections: 1, amount: 10, lane }], 10_000);
    expect(outcome.byKind.get('good')?.failed).toBe(0);
    expect(outcome.byKind.get('good')?.latenciesMs).toHaveLength(5);
    expect(outcome.byKind.get('bad')?.failed).toBe(5);
    expect(outcome.byKind.get('bad')?.latenciesMs).toHaveLength(5);
  });

  it('cuts a run off at its deadline when the server stops answering', async () => {
    let answered = 0;
    const origin = await serve(() => (answered++ < 3 ? { status: 200, body: 'null' } : null));
    const lane = (): Lane => ({ next: () => ({ method: 'GET', path: '/', headers: {} }), answer: () => ({ kind: 'get', ok: true }) });
    const outcome = await runLoad([{ origin, connections: 1, amount: 100, lane }], 200);
    expect(outcome.cutOff).toBe(true);
    expect(outcome.answers).toBe(3);
  });

  it('refuses an amount smaller than the number of connections', async () => {
    const lane = (): Lane => ({ next: () => ({ method: 'GET', path: '/', headers: {} }), answer: () => ({ kind: 'get', ok: true }) });
    await expect(runLoad([{ origin: 'http://127.0.0.1:9', connections: 4, amount: 3, lane }], 1000)).rejects.toThrow(/amount/);
  });
});
