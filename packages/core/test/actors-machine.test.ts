import { describe, expect, it } from 'vitest';
import { SESSIONS_TOKEN } from './support/fixtures.js';
import { apiError, SETTINGS, T0, WorkItemHarness } from './support/work-item-harness.js';

/** Runs the harness until the sandbox is up and active. */
async function active(h: WorkItemHarness): Promise<void> {
  await h.settle();
  expect(h.phase).toBe('active');
}

describe('work-item machine: the sandbox waits for the lease (§7.2)', () => {
  it('starts nothing until the first beat has extended the lease', async () => {
    const h = new WorkItemHarness({ firstBeat: 'manual' });
    await h.settle();
    expect(h.log).toEqual(['ack', 'lease.subscribe']);
    expect(h.phase).toBe('starting');
    h.clock.advance(60_000);
    await h.settle();
    expect(h.runtime.specs).toHaveLength(0);
    h.beat('renewed');
    await h.settle();
    expect(h.log).toEqual(['ack', 'lease.subscribe', 'runtime.start']);
    expect(h.phase).toBe('active');
  });

  it('a claim superseded before its first beat (412, or a revoked token) never starts a sandbox and posts no stop', async () => {
    for (const reason of ['precondition', 'fatal'] as const) {
      const h = new WorkItemHarness({ firstBeat: 'manual' });
      await h.settle();
      h.lose(reason);
      const output = await h.handle.settled;
      expect(output).toMatchObject({ outcome: 'lease_lost', stopCall: 'skipped' });
      expect(h.runtime.specs).toHaveLength(0);
      expect(h.stopCalls).toHaveLength(0);
    }
  });

  it('an item already asked to stop at the first beat is released without a sandbox', async () => {
    const h = new WorkItemHarness({ firstBeat: 'manual' });
    await h.settle();
    h.beat('stop_requested', 'stopping');
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'stopped_by_control_plane', stopCall: 'done' });
    expect(h.runtime.specs).toHaveLength(0);
    expect(h.stopCalls).toHaveLength(1);
  });

  it('a shutdown before the first beat releases the item once the lease is claimed, without a sandbox', async () => {
    const h = new WorkItemHarness({ firstBeat: 'manual' });
    await h.settle();
    h.handle.actor.send({ type: 'shutdown' });
    await h.settle();
    expect(h.runtime.specs).toHaveLength(0);
    h.beat('renewed');
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'shutdown', stopCall: 'done' });
    expect(h.runtime.specs).toHaveLength(0);
  });
});

describe('work-item machine: the sandbox ends by itself (§7.6)', () => {
  it('exit 0: heartbeat before the sandbox, stop{force:true} with the sessions token once, outcome completed', async () => {
    const h = new WorkItemHarness();
    await active(h);
    expect(h.log).toEqual(['ack', 'lease.subscribe', 'runtime.start']);
    expect(h.leaseInputs[0]).toMatchObject({ credential: SESSIONS_TOKEN, desiredTtlSeconds: 30, leaseStartedAt: T0 });
    h.beat('renewed');
    h.runtime.sandbox.finish(0);
    const output = await h.handle.settled;
    expect(output).toEqual({ outcome: 'completed', exit: expect.objectContaining({ code: 0, reason: 'exited' }), error: null, stopCall: 'done' });
    expect(h.stopCalls).toHaveLength(1);
    expect(h.stopCalls[0]?.input).toMatchObject({ workId: h.work.id, credential: SESSIONS_TOKEN });
    // The lease is kept until the stop call is done, and only then dropped.
    expect(h.log.slice(3)).toEqual(['exit:exited', 'stopCall', 'lease.unsubscribe']);
    expect(h.emittedTypes()).toEqual(['acked', 'lease_renewed', 'started', 'lease_renewed', 'stopping']);
    expect(h.phases).toEqual(['queued', 'starting', 'active', 'releasing', 'done']);
  });

  it('exit non-zero: outcome failed, still released with stop{force:true}', async () => {
    const h = new WorkItemHarness();
    await active(h);
    h.runtime.sandbox.finish(3);
    const output = await h.handle.settled;
    expect(output?.outcome).toBe('failed');
    expect(output?.exit?.code).toBe(3);
    expect(h.stopCalls).toHaveLength(1);
    expect(h.runtime.sandbox.kills).toBe(0);
  });
});

describe('work-item machine: the control plane asks to stop (§7.3)', () => {
  it('stops the sandbox with its grace, keeps the lease meanwhile, then posts stop{force:true}: stopped_by_control_plane', async () => {
    const h = new WorkItemHarness({ sandboxStop: 'ignore' });
    await active(h);
    h.beat('stop_requested', 'stopping');
    await h.settle();
    expect(h.phase).toBe('winding_down');
    expect(h.runtime.sandbox.stopCalls).toEqual([SETTINGS.stopGraceMs]);
    expect(h.leaseSubscribed).toBe(true);
    expect(h.stopCalls).toHaveLength(0);
    // The sandbox takes its time; the lease keeps beating and nothing is posted yet.
    h.beat('renewed', 'stopping');
    await h.advance(4000);
    expect(h.stopCalls).toHaveLength(0);
    h.runtime.sandbox.finish(0, 'stopped');
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'stopped_by_control_plane', stopCall: 'done' });
    expect(h.log.indexOf('exit:stopped')).toBeLessThan(h.log.indexOf('stopCall'));
    expect(h.log.at(-1)).toBe('lease.unsubscribe');
    expect(h.emittedTypes()).toEqual(['acked', 'lease_renewed', 'started', 'stop_requested', 'stopping', 'lease_renewed']);
  });

  it('kills a sandbox that outlives its grace by the deadline margin, then still posts the stop', async () => {
    const h = new WorkItemHarness({ sandboxStop: 'ignore' });
    await active(h);
    h.beat('stop_requested', 'stopping');
    await h.advance(SETTINGS.stopGraceMs + SETTINGS.stopDeadlineMarginMs - 1);
    expect(h.runtime.sandbox.kills).toBe(0);
    await h.advance(1);
    expect(h.runtime.sandbox.kills).toBe(1);
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'stopped_by_control_plane', stopCall: 'done', exit: { reason: 'killed' } });
    expect(h.stopCalls).toHaveLength(1);
  });

  it('a stop request while the sandbox starts waits for it to be up, then stops it gracefully', async () => {
    const h = new WorkItemHarness({ start: 'held' });
    await h.settle();
    expect(h.phase).toBe('starting');
    h.beat('stop_requested', 'stopping');
    await h.settle();
    expect(h.phase).toBe('starting');
    expect(h.runtime.signals[0]?.aborted).toBe(false);
    h.runtime.release();
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'stopped_by_control_plane', stopCall: 'done' });
    expect(h.runtime.sandbox.stopCalls).toEqual([SETTINGS.stopGraceMs]);
    expect(h.emittedTypes()).not.toContain('started');
  });

  it('a `stopped` answer while releasing is left to the stop call in flight', async () => {
    const h = new WorkItemHarness({ stopCall: ['hang'] });
    await active(h);
    h.runtime.sandbox.finish(0);
    await h.settle();
    expect(h.phase).toBe('releasing');
    h.beat('stopped', 'stopped');
    await h.settle();
    expect(h.phase).toBe('releasing');
    expect(h.stopCalls[0]?.signal.aborted).toBe(false);
  });
});

describe('work-item machine: the item is stopped on the server (§7.4)', () => {
  it('kills the sandbox and posts no stop', async () => {
    const h = new WorkItemHarness();
    await active(h);
    h.beat('stopped', 'stopped');
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'stopped_by_control_plane', stopCall: 'skipped', exit: { reason: 'killed' } });
    expect(h.runtime.sandbox.kills).toBe(1);
    expect(h.runtime.sandbox.stopCalls).toEqual([]);
    expect(h.stopCalls).toHaveLength(0);
  });
});

describe('work-item machine: the lease is lost (§7.5)', () => {
  for (const reason of ['precondition', 'stale', 'fatal'] as const) {
    it(`${reason}: kills at once, posts no stop, outcome lease_lost`, async () => {
      const h = new WorkItemHarness();
      await active(h);
      h.lose(reason);
      const output = await h.handle.settled;
      expect(output).toMatchObject({ outcome: 'lease_lost', stopCall: 'skipped', exit: { reason: 'killed' } });
      expect(h.runtime.sandbox.kills).toBe(1);
      expect(h.runtime.sandbox.stopCalls).toEqual([]);
      expect(h.stopCalls).toHaveLength(0);
      expect(h.emitted).toContainEqual(expect.objectContaining({ type: 'lease_lost', reason }));
    });
  }

  it('overrides the outcome of a graceful stop in progress, and kills without waiting for the grace', async () => {
    const h = new WorkItemHarness({ sandboxStop: 'ignore' });
    await active(h);
    h.handle.actor.send({ type: 'shutdown' });
    await h.settle();
    expect(h.phase).toBe('winding_down');
    h.lose('precondition');
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'lease_lost', stopCall: 'skipped' });
    expect(h.runtime.sandbox.kills).toBe(1);
    expect(h.stopCalls).toHaveLength(0);
  });

  it('while the sandbox starts: cancels the start, and the sandbox it yields late is killed before the item settles', async () => {
    const h = new WorkItemHarness({ start: 'held' });
    await h.settle();
    h.lose('precondition');
    await h.settle();
    expect(h.runtime.signals[0]?.aborted).toBe(true);
    expect(h.handle.actor.getSnapshot().status).toBe('done');
    let settled = false;
    void h.handle.settled.then(() => (settled = true));
    await h.settle();
    // The runtime ignored the abort: the item is not settled until what it hands over is killed.
    expect(settled).toBe(false);
    h.runtime.release();
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'lease_lost', stopCall: 'skipped' });
    expect(h.runtime.sandbox.kills).toBe(1);
  });
});

describe('work-item machine: start failure and healthcheck', () => {
  it('a start that fails: no sandbox, the item is released with stop{force:true}, outcome start_failed', async () => {
    const h = new WorkItemHarness({ start: 'fail' });
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'start_failed', stopCall: 'done', exit: null });
    expect(output?.error).toContain('the image could not be pulled');
    expect(h.log).toEqual(['ack', 'lease.subscribe', 'runtime.start', 'stopCall', 'lease.unsubscribe']);
  });

  it('a healthcheck runs no sandbox: probes the item with a get, then stop{force:true}', async () => {
    const h = new WorkItemHarness({ dataType: 'healthcheck' });
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'healthcheck', stopCall: 'done', exit: null, error: null });
    expect(h.log).toEqual(['ack', 'lease.subscribe', 'probe', 'stopCall', 'lease.unsubscribe']);
    expect(h.probes[0]?.input).toMatchObject({ workId: h.work.id, credential: SESSIONS_TOKEN });
    expect(h.runtime.sandboxes).toHaveLength(0);
  });

  it('a healthcheck whose probe fails is still released, and says why', async () => {
    const h = new WorkItemHarness({ dataType: 'healthcheck', probe: [apiError('get', 503)] });
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'healthcheck', stopCall: 'done' });
    expect(output?.error).toContain('get failed (503)');
  });
});

describe('work-item machine: the ack (§7.1)', () => {
  it('a 409 is a refusal: no lease, no sandbox, no stop call', async () => {
    const h = new WorkItemHarness({ ack: [apiError('ack', 409, { shouldRetry: false })] });
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'ack_refused', stopCall: 'skipped' });
    expect(h.log).toEqual(['ack']);
  });

  it('a 409 is a refusal even when the server marks it retryable', async () => {
    const h = new WorkItemHarness({ ack: [apiError('ack', 409, { shouldRetry: true })] });
    expect(await h.handle.settled).toMatchObject({ outcome: 'ack_refused' });
    expect(h.acks).toHaveLength(1);
  });

  it('transient failures are retried after a backoff on the clock, then the item runs', async () => {
    const h = new WorkItemHarness({ ack: [apiError('ack', 503), apiError('ack', null)] });
    await h.settle();
    expect(h.acks).toHaveLength(1);
    // random() is 0.5: backoff 0.5 × 500 ms, then 0.5 × 1000 ms.
    await h.advance(249);
    expect(h.acks).toHaveLength(1);
    await h.advance(1);
    expect(h.acks).toHaveLength(2);
    await h.advance(500);
    expect(h.acks.map((call) => call.at - T0)).toEqual([0, 250, 750]);
    expect(h.phase).toBe('active');
    // Each attempt's timeout is what is left of the reclaim window.
    expect(h.acks.map((call) => call.input.timeoutMs)).toEqual([5000, 4750, 4250]);
  });

  it('stops retrying once the reclaim window is spent: ack_refused, never an ack after the window', async () => {
    const failures = Array.from({ length: 20 }, () => apiError('ack', 503, { retryAfterMs: 1500 }));
    const h = new WorkItemHarness({ ack: failures });
    await h.settle();
    for (let step = 0; step < 100; step++) await h.advance(100);
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'ack_refused', stopCall: 'skipped' });
    expect(h.acks.map((call) => call.at - T0)).toEqual([0, 1500, 3000, 4500]);
    expect(h.log).not.toContain('lease.subscribe');
  });

  it('a fatal ack error is a refusal', async () => {
    const h = new WorkItemHarness({ ack: [apiError('ack', 401)] });
    expect(await h.handle.settled).toMatchObject({ outcome: 'ack_refused' });
  });
});

describe('work-item machine: the final stop call', () => {
  it('retries transient failures with backoff, then succeeds', async () => {
    const h = new WorkItemHarness({ stopCall: [apiError('stop', 503), apiError('stop', 529)] });
    await active(h);
    h.runtime.sandbox.finish(0);
    await h.settle();
    await h.advance(250);
    await h.advance(500);
    const output = await h.handle.settled;
    expect(output?.stopCall).toBe('done');
    expect(h.stopCalls).toHaveLength(3);
  });

  it('a 409 means already stopped, which is success', async () => {
    const h = new WorkItemHarness({ stopCall: [apiError('stop', 409, { shouldRetry: false })] });
    await active(h);
    h.runtime.sandbox.finish(0);
    expect(await h.handle.settled).toMatchObject({ outcome: 'completed', stopCall: 'already_stopped' });
    expect(h.stopCalls).toHaveLength(1);
  });

  it('gives up after its bound of retries, and says so', async () => {
    const h = new WorkItemHarness({ stopCall: Array.from({ length: 10 }, () => apiError('stop', 503)) });
    await active(h);
    h.runtime.sandbox.finish(0);
    for (let step = 0; step < 10; step++) await h.advance(10_000);
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'completed', stopCall: 'failed' });
    expect(h.stopCalls).toHaveLength(SETTINGS.retry.maxRetries + 1);
  });

  it('a fatal stop error is not retried', async () => {
    const h = new WorkItemHarness({ stopCall: [apiError('stop', 403)] });
    await active(h);
    h.runtime.sandbox.finish(0);
    expect(await h.handle.settled).toMatchObject({ stopCall: 'failed' });
    expect(h.stopCalls).toHaveLength(1);
  });
});

describe('work-item machine: worker shutdown (§7.8)', () => {
  it('stops the sandbox with its grace, then stop{force:true}: outcome shutdown', async () => {
    const h = new WorkItemHarness();
    await active(h);
    h.handle.actor.send({ type: 'shutdown' });
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'shutdown', stopCall: 'done', exit: { reason: 'stopped' } });
    expect(h.runtime.sandbox.stopCalls).toEqual([SETTINGS.stopGraceMs]);
    expect(h.runtime.sandbox.kills).toBe(0);
  });

  it('before the ack succeeded: abandons the item (the server redelivers it), no lease, no stop call', async () => {
    const h = new WorkItemHarness({ ack: ['hang'] });
    await h.settle();
    h.handle.actor.send({ type: 'shutdown' });
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'shutdown', stopCall: 'skipped' });
    expect(h.acks[0]?.signal.aborted).toBe(true);
    expect(h.log).toEqual(['ack']);
  });

  it('while the sandbox starts: lets it come up, then stops it gracefully', async () => {
    const h = new WorkItemHarness({ start: 'held' });
    await h.settle();
    h.handle.actor.send({ type: 'shutdown' });
    await h.settle();
    h.runtime.release();
    const output = await h.handle.settled;
    expect(output).toMatchObject({ outcome: 'shutdown', stopCall: 'done' });
    expect(h.runtime.sandbox.stopCalls).toEqual([SETTINGS.stopGraceMs]);
  });
});

describe('work-item machine: stopped from outside', () => {
  it('cancels every step and kills the sandbox before it settles', async () => {
    const h = new WorkItemHarness();
    await active(h);
    h.handle.actor.stop();
    const output = await h.handle.settled;
    expect(output).toBeNull();
    expect(h.runtime.sandbox.kills).toBe(1);
    expect(h.leaseSubscribed).toBe(false);
  });

  it('while winding down: the graceful stop is cut short by a kill', async () => {
    const h = new WorkItemHarness({ sandboxStop: 'ignore' });
    await active(h);
    h.handle.actor.send({ type: 'shutdown' });
    await h.settle();
    h.handle.actor.stop();
    await h.handle.settled;
    expect(h.runtime.sandbox.kills).toBe(1);
    expect(h.runtime.sandbox.exited?.reason).toBe('killed');
  });
});

describe('work-item machine: what it tells its owner of the lease', () => {
  it('emits lease_renewed with the beat\'s TTL, latency and lateness, as the stream reported them', async () => {
    const h = new WorkItemHarness();
    await active(h);
    h.beat('renewed');
    const renewed = h.emitted.filter((event) => event.type === 'lease_renewed');
    expect(renewed.at(-1)).toEqual({ type: 'lease_renewed', at: h.clock.now(), ttlSeconds: 30, latencyMs: 3, lateMs: 7 });
  });
});
