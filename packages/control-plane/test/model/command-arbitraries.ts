/**
 * The generators of the model-based property's commands, weighted towards what carries items
 * deep into their lifecycle, with boundary values for TTLs, reclaim windows and lease ends.
 */
import fc from 'fast-check';
import { POLL_LIMITS, type MetadataPatch } from '@envworker/core';
import type { LeasePolicy } from '../../src/store/work-store.js';
import { AdvanceCommand, AdvanceToLeaseEndCommand } from './clock-commands.js';
import {
  AckCommand,
  EnqueueCommand,
  ForeignCommand,
  HeartbeatCommand,
  ListCommand,
  PollCommand,
  StopCommand,
  UpdateCommand,
  type DataChoice,
  type ExpectedChoice,
  type Focus,
  type ForeignOp,
  type ForeignTarget,
  type ReclaimChoice,
} from './item-commands.js';
import type { ReferenceModel } from './reference-model.js';
import type { StoreCmd, StoreUnderTest } from './store-command.js';

/** The generators of every command, weighted by repeating the frequent ones. */
export function storeCommands(lease: LeasePolicy, maxCommands: number): fc.Arbitrary<Iterable<StoreCmd>> {
  const pick = fc.nat({ max: 63 });
  const focus = (main: Focus): fc.Arbitrary<Focus> =>
    fc.oneof({ arbitrary: fc.constant(main), weight: 4 }, { arbitrary: fc.constantFrom<Focus>('leased', 'stopping', 'any'), weight: 2 });
  const observe = fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 });
  const metadataKey = fc.integer({ min: 0, max: 21 }).map((n) => `key${n}`);
  const metadataValue = fc.oneof(
    { arbitrary: fc.string({ maxLength: 8 }), weight: 6 },
    { arbitrary: fc.constant('v'.repeat(512)), weight: 1 },
  );
  const longKey = `k${'x'.repeat(63)}`;
  const dataChoice = fc.constantFrom<DataChoice>('omitted', 'session', 'session with id', 'healthcheck', 'healthcheck with id');
  const enqueue = fc
    .tuple(dataChoice, fc.dictionary(metadataKey, fc.string({ maxLength: 8 }), { maxKeys: 3 }))
    .map(([data, metadata]) => new EnqueueCommand(data, metadata));
  const reclaim: fc.Arbitrary<ReclaimChoice> = fc.oneof(
    fc.constantFrom(1, 1000, POLL_LIMITS.defaultReclaimOlderThanMs, 30_000).map((ms) => ({ kind: 'fixed' as const, ms })),
    fc.integer({ min: 1, max: 20_000 }).map((ms) => ({ kind: 'fixed' as const, ms })),
    fc.tuple(pick, fc.constantFrom<-1 | 0 | 1>(-1, 0, 1)).map(([p, deltaMs]) => ({ kind: 'age' as const, pick: p, deltaMs })),
  );
  const poll = fc.tuple(fc.nat({ max: 3 }), reclaim).map(([worker, r]) => new PollCommand(worker, r));
  const ack = fc.tuple(pick, focus('delivered')).map(([p, f]) => new AckCommand(p, f));
  const { minTtlSeconds: min, maxTtlSeconds: max, defaultTtlSeconds } = lease;
  const desiredTtl = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(...new Set([1, Math.max(1, min - 1), min, min + 1, defaultTtlSeconds, max - 1, max, max + 1, 10 * max])),
    fc.integer({ min: 1, max: 2 * max }),
  );
  const expected = fc.oneof(
    { arbitrary: fc.constant<ExpectedChoice>('current'), weight: 6 },
    { arbitrary: fc.constant<ExpectedChoice>('stale'), weight: 3 },
    { arbitrary: fc.constantFrom<ExpectedChoice>('NO_HEARTBEAT', 'omitted', 'never issued'), weight: 3 },
  );
  const heartbeat = fc.tuple(pick, focus('leased'), expected, desiredTtl).map(([p, f, e, ttl]) => new HeartbeatCommand(p, f, e, ttl));
  const force = fc.oneof({ arbitrary: fc.constant(false), weight: 2 }, { arbitrary: fc.constant(true), weight: 1 });
  const stop = fc.tuple(pick, focus('leased'), force).map(([p, f, forced]) => new StopCommand(p, f, forced));
  const patchKey = fc.oneof({ arbitrary: metadataKey, weight: 9 }, { arbitrary: fc.constant(longKey), weight: 1 });
  const patch = fc
    .oneof(
      fc.array(fc.tuple(patchKey, fc.option(metadataValue, { freq: 4 })), { maxLength: 6 }),
      // Many upserts at once: the merged metadata often passes the 16-key limit.
      fc.uniqueArray(fc.tuple(patchKey, metadataValue), { minLength: 12, maxLength: 16, selector: ([key]) => key }),
    )
    .map((entries): MetadataPatch => Object.fromEntries(entries));
  const update = fc.tuple(pick, patch).map(([p, changes]) => new UpdateCommand(p, changes));
  const list = fc
    .tuple(fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 100 })), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 })))
    .map(([limit, added]) => new ListCommand(limit, added));
  const advance = fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 1_500 }), weight: 4 },
        { arbitrary: fc.integer({ min: 1_000, max: 15_000 }), weight: 3 },
        { arbitrary: fc.integer({ min: min * 1000, max: (max + 30) * 1000 }), weight: 1 },
      ),
      observe,
    )
    .map(([ms, o]) => new AdvanceCommand(ms, o));
  const toLeaseEnd = fc
    .tuple(pick, fc.oneof({ arbitrary: fc.constant<-1 | 0 | 1>(-1), weight: 2 }, { arbitrary: fc.constantFrom<-1 | 0 | 1>(0, 1), weight: 2 }), observe)
    .map(([p, offset, o]) => new AdvanceToLeaseEndCommand(p, offset, o));
  const foreign = fc
    .tuple(
      fc.constantFrom<ForeignOp>('get', 'ack', 'heartbeat', 'stop', 'update'),
      fc.constantFrom<ForeignTarget>("another environment's item", 'a never-created id', 'an unknown environment'),
    )
    .map(([op, t]) => new ForeignCommand(op, t));
  return fc.commands<ReferenceModel, StoreUnderTest, false>(
    [enqueue, enqueue, enqueue, poll, poll, poll, poll, ack, ack, ack, heartbeat, heartbeat, heartbeat, heartbeat, heartbeat, stop, stop, stop, update, update, list, advance, advance, advance, toLeaseEnd, foreign],
    { maxCommands, size: 'max' },
  );
}
