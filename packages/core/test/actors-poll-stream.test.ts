/**
 * The poll stream in virtual time. Its client is `fakePollClient`, a FAKE: each poll stays open
 * until the test answers it, with an item, `null` or an error of its choosing. It is a fake on
 * purpose: these tests need polls held open, 503s and 401s on demand, and exact virtual-time
 * pacing, which the real control plane cannot give; the end-to-end tests poll the real one.
 */
import type { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { WorkApiError } from '../src/api/errors.js';
import type { PollParams } from '../src/api/call-params.js';
import type { CallOptions } from '../src/api/client-options.js';
import { WorkSchema, type Work } from '../src/api/wire.js';
import { FatalPollError } from '../src/actors/poll-errors.js';
import { pollStream, type PollEvent, type PollStreamOptions } from '../src/actors/poll-stream.js';
import { SlotPool } from '../src/actors/slot-pool.js';
import { VirtualClock } from '../src/time/virtual-clock.js';
import { ENV_ID, workJson } from './support/fixtures.js';

interface OpenPoll {
  readonly at: number;
  readonly params: PollParams;
  readonly signal: AbortSignal;
  answer(work: Work | null): void;
  fail(error: unknown): void;
}

/** The fake client (see the file comment). */
function fakePollClient(clock: VirtualClock) {
  const polls: OpenPoll[] = [];
  const settled = new Set<OpenPoll>();
  return {
    polls,
    open: () => polls.filter((poll) => !poll.signal.aborted && !settled.has(poll)),
    client: {
      poll(params: PollParams, options: CallOptions = {}): Promise<Work | null> {
        return new Promise((resolve, reject) => {
          const poll: OpenPoll = {
            at: clock.now(),
            params,
            signal: options.signal as AbortSignal,
            answer: (work) => {
              settled.add(poll);
              resolve(work);
            },
            fail: (error) => {
              settled.add(poll);
              reject(error);
            },
          };
          options.signal?.addEventListener('abort', () => reject(new WorkApiError({ operation: 'poll', status: null, type: 'aborted', message: 'aborted' })));
          polls.push(poll);
        });
      },
    },
  };
}

const settle = async (): Promise<void> => {
  for (let round = 0; round < 3; round++) await new Promise<void>((resolve) => setImmediate(resolve));
};

function setup(options: Partial<PollStreamOptions> & { slots?: SlotPool } = {}) {
  const clock = new VirtualClock(0);
  const fake = fakePollClient(clock);
  const slots = options.slots ?? new SlotPool(1);
  const events: PollEvent[] = [];
  let error: unknown = null;
  const stream = pollStream({ environmentId: ENV_ID, workerId: 'host-1', clock, random: () => 0.5, ...options, client: fake.client, slots });
  const subscription: Subscription = stream.subscribe({ next: (event) => events.push(event), error: (err: unknown) => (error = err) });
  return {
    clock,
    fake,
    slots,
    events,
    subscription,
    error: () => error,
    advance: async (ms: number) => {
      clock.advance(ms);
      await settle();
    },
  };
}

const work = (id = 'work_0123456789abcdefghijklmn'): Work => WorkSchema.parse(workJson({ id }));
const failure = (status: number | null, retryAfterMs: number | null = null) =>
  new WorkApiError({ operation: 'poll', status, type: 'x', message: `poll failed (${String(status)})`, retryAfterMs });

describe('poll stream', () => {
  it('long-polls with block_ms 999 and the worker id', async () => {
    const t = setup();
    await settle();
    expect(t.fake.polls).toHaveLength(1);
    expect(t.fake.polls[0]?.params).toEqual({ workerId: 'host-1', blockMs: 999 });
    t.subscription.unsubscribe();
  });

  it('never has more polls out than free slots, and hands each item over with its slot', async () => {
    const t = setup({ slots: new SlotPool(2), pollers: 3, idleDelayMs: [0, 0] });
    await settle();
    expect(t.fake.open()).toHaveLength(2);
    expect(t.slots.free).toBe(0);
    t.fake.open()[0]?.answer(work('work_a'));
    await settle();
    // One slot went with the item, one is held by the other poll: the third poller waits.
    expect(t.fake.open()).toHaveLength(1);
    const claimed = t.events.find((event) => event.type === 'work');
    expect(claimed?.type === 'work' && claimed.work.id).toBe('work_a');
    if (claimed?.type === 'work') claimed.slot.release();
    await settle();
    expect(t.fake.open()).toHaveLength(2);
    t.subscription.unsubscribe();
    expect(t.slots.free).toBe(2);
  });

  it('reports when the poll that claimed an item was sent, as well as when its answer came', async () => {
    const t = setup();
    await settle();
    await t.advance(700);
    t.fake.open()[0]?.answer(work('work_late'));
    await settle();
    const claimed = t.events.find((event) => event.type === 'work');
    expect(claimed).toMatchObject({ type: 'work', sentAt: 0, at: 700 });
    t.subscription.unsubscribe();
  });

  it('waits a jittered idle pause on the clock after an empty poll, not a moment less', async () => {
    const t = setup({ idleDelayMs: [1000, 3000] });
    await settle();
    t.fake.polls[0]?.answer(null);
    await settle();
    expect(t.events).toEqual([{ type: 'empty', at: 0, poller: 0, nextPollInMs: 2000 }]);
    expect(t.slots.free).toBe(1);
    await t.advance(1999);
    expect(t.fake.polls).toHaveLength(1);
    await t.advance(1);
    expect(t.fake.polls.map((poll) => poll.at)).toEqual([0, 2000]);
    t.subscription.unsubscribe();
  });

  it('polls again at once with an idle pause of [0, 0]', async () => {
    const t = setup({ idleDelayMs: [0, 0] });
    await settle();
    t.fake.polls[0]?.answer(null);
    await settle();
    expect(t.fake.polls.map((poll) => poll.at)).toEqual([0, 0]);
    t.subscription.unsubscribe();
  });

  it('backs off transient failures with full jitter, doubling to the cap, and starts over after a success', async () => {
    const t = setup({ idleDelayMs: [0, 0], backoff: { baseDelayMs: 1000, maxDelayMs: 4000 } });
    await settle();
    for (let failed = 0; failed < 5; failed++) {
      t.fake.polls.at(-1)?.fail(failure(503));
      await settle();
      await t.advance(2000);
    }
    // random() = 0.5: 500, 1000, 2000, 2000 (cap 4000 × 0.5), 2000.
    const errors = t.events.filter((event) => event.type === 'error');
    expect(errors.map((event) => event.type === 'error' && event.retryInMs)).toEqual([500, 1000, 2000, 2000, 2000]);
    expect(errors.map((event) => event.type === 'error' && event.failures)).toEqual([1, 2, 3, 4, 5]);
    t.fake.polls.at(-1)?.answer(null);
    await settle();
    t.fake.polls.at(-1)?.fail(failure(null));
    await settle();
    expect(t.events.at(-1)).toMatchObject({ type: 'error', failures: 1, retryInMs: 500 });
    expect(t.slots.free).toBe(1);
    t.subscription.unsubscribe();
  });

  it("honours the server's retry-after", async () => {
    const t = setup();
    await settle();
    t.fake.polls[0]?.fail(failure(529, 7000));
    await settle();
    expect(t.events.at(-1)).toMatchObject({ type: 'error', retryInMs: 7000 });
    await t.advance(6999);
    expect(t.fake.polls).toHaveLength(1);
    await t.advance(1);
    expect(t.fake.polls).toHaveLength(2);
    t.subscription.unsubscribe();
  });

  it('ends with a FatalPollError that says what to fix on a 401, and gives its slot back', async () => {
    const t = setup({ slots: new SlotPool(2), pollers: 2 });
    await settle();
    t.fake.polls[0]?.fail(failure(401));
    await settle();
    const error = t.error();
    expect(error).toBeInstanceOf(FatalPollError);
    expect((error as FatalPollError).message).toContain('check environmentKey');
    expect((error as FatalPollError).status).toBe(401);
    // The other poller was stopped too, its poll aborted.
    expect(t.fake.polls[1]?.signal.aborted).toBe(true);
    expect(t.slots.free).toBe(2);
  });

  it('unsubscribing aborts the poll in flight and gives its slot back', async () => {
    const t = setup();
    await settle();
    expect(t.slots.free).toBe(0);
    t.subscription.unsubscribe();
    expect(t.fake.polls[0]?.signal.aborted).toBe(true);
    expect(t.slots.free).toBe(1);
    await t.advance(60_000);
    expect(t.fake.polls).toHaveLength(1);
  });
});
