/**
 * Deliberately faulty stores: FAKES. Each wraps a real store and breaks one rule of the contract,
 * so that a test can show the model-based property notices that kind of bug. They exist because a
 * correct store cannot be made to break a rule on demand.
 */
import { POLL_LIMITS } from '@envworker/core';
import type { BearerPrincipal, WorkStore } from '../../src/store/work-store.js';
import { StoreError } from '../../src/store/store-error.js';

export interface FaultyStore {
  /** The rule it breaks. */
  readonly fault: string;
  /** What the property's report must say about it. */
  readonly noticedAs: RegExp;
  readonly wrap: (store: WorkStore) => WorkStore;
}

/** A store that forwards every call to `store`, except the ones overridden. */
function forward(store: WorkStore, overrides: Partial<WorkStore>): WorkStore {
  return {
    createEnvironment: (input) => store.createEnvironment(input),
    getEnvironment: (environmentId) => store.getEnvironment(environmentId),
    resolveBearer: (credential) => store.resolveBearer(credential),
    enqueue: (environmentId, input) => store.enqueue(environmentId, input),
    poll: (environmentId, input) => store.poll(environmentId, input),
    get: (environmentId, workId) => store.get(environmentId, workId),
    ack: (environmentId, workId) => store.ack(environmentId, workId),
    heartbeat: (environmentId, workId, input) => store.heartbeat(environmentId, workId, input),
    stop: (environmentId, workId, input) => store.stop(environmentId, workId, input),
    list: (environmentId, input) => store.list(environmentId, input),
    update: (environmentId, workId, patch) => store.update(environmentId, workId, patch),
    stats: (environmentId) => store.stats(environmentId),
    ping: () => store.ping(),
    close: () => store.close(),
    ...overrides,
  };
}

export const FAULTY_STORES: readonly FaultyStore[] = [
  {
    fault: 'heartbeat ignores expected_last_heartbeat',
    noticedAs: /expected 412, got (200|409)/,
    wrap: (store) =>
      forward(store, {
        heartbeat: (environmentId, workId, input) =>
          store.heartbeat(environmentId, workId, input.desiredTtlSeconds === undefined ? {} : { desiredTtlSeconds: input.desiredTtlSeconds }),
      }),
  },
  {
    fault: 'poll ignores the reclaim window',
    noticedAs: /to a second poller inside the reclaim window/,
    wrap: (store) => forward(store, { poll: (environmentId, input) => store.poll(environmentId, { ...input, reclaimOlderThanMs: 1 }) }),
  },
  {
    // The bug this property found in the first memory store: `>=` where the table says `>`.
    fault: 'poll redelivers an item exactly reclaim_older_than_ms after its delivery',
    noticedAs: /to a second poller inside the reclaim window/,
    wrap: (store) =>
      forward(store, {
        poll: (environmentId, input) =>
          store.poll(environmentId, { ...input, reclaimOlderThanMs: Math.max(1, (input.reclaimOlderThanMs ?? POLL_LIMITS.defaultReclaimOlderThanMs) - 1) }),
      }),
  },
  {
    fault: 'ack succeeds on a stopping or stopped item',
    noticedAs: /expected 409, got 200/,
    wrap: (store) =>
      forward(store, {
        ack: async (environmentId, workId) => {
          const work = await store.get(environmentId, workId);
          return work.state === 'stopping' || work.state === 'stopped' ? work : store.ack(environmentId, workId);
        },
      }),
  },
  {
    fault: 'list loses the last item of every page but the last',
    noticedAs: /skipped/,
    wrap: (store) =>
      forward(store, {
        list: async (environmentId, input) => {
          const page = await store.list(environmentId, input);
          return page.next_page === null ? page : { ...page, data: page.data.slice(0, -1) };
        },
      }),
  },
  {
    fault: 'stats counts delivered items as undelivered',
    noticedAs: /depth\/pending/,
    wrap: (store) =>
      forward(store, {
        stats: async (environmentId) => {
          const stats = await store.stats(environmentId);
          return { ...stats, depth: stats.depth + stats.pending, pending: 0 };
        },
      }),
  },
  {
    fault: 'a sessions token keeps resolving after it is revoked',
    noticedAs: /still resolves after its item was delivered again or re-queued/,
    wrap: (store) => {
      const seen = new Map<string, BearerPrincipal>();
      return forward(store, {
        resolveBearer: async (credential) => {
          const principal = (await store.resolveBearer(credential)) ?? seen.get(credential) ?? null;
          if (principal !== null) seen.set(credential, principal);
          return principal;
        },
      });
    },
  },
  {
    fault: 'a lease lasts 1 s longer than its TTL',
    noticedAs: /leases ended: [^)]*(active|stopping) → (queued|stopped)/,
    wrap: (store) =>
      forward(store, {
        heartbeat: async (environmentId, workId, input) => {
          const answer = await store.heartbeat(environmentId, workId, input);
          if (!answer.lease_extended) return answer;
          // Claims one more second than asked, and reports the TTL the caller expects.
          const extended = await store.heartbeat(environmentId, workId, { expectedLastHeartbeat: answer.last_heartbeat, desiredTtlSeconds: answer.ttl_seconds + 1 });
          return { ...extended, ttl_seconds: answer.ttl_seconds };
        },
      }),
  },
  {
    fault: 'stop on a stopped item succeeds',
    noticedAs: /expected 409, got 200/,
    wrap: (store) =>
      forward(store, {
        stop: async (environmentId, workId, input) => {
          try {
            return await store.stop(environmentId, workId, input);
          } catch (error) {
            if (error instanceof StoreError && error.status === 409) return store.get(environmentId, workId);
            throw error;
          }
        },
      }),
  },
];
