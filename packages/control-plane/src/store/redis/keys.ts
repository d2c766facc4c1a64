/**
 * The key layout of the Redis store. Every key of one environment starts with the environment's
 * base, `<prefix>{<environment id>}:`, so they all share one hash tag and Redis Cluster keeps
 * them in one slot; that is what lets every script touch them together:
 *
 * - `env`: the environment record (hash: id, name, key, created_at)
 * - `stamp`: the last timestamp handed out (strictly increasing per environment)
 * - `q`: the queue (stream; entries `w` = work id, `qa` = queued at), consumer group `workers`
 * - `leases`: work id → lease end, µs (sorted set)
 * - `items`: work id → created_at, µs (sorted set, for list)
 * - `workers`: worker id → last poll, µs (sorted set, for stats)
 * - `delivered`: stream entry id → delivery time, µs (sorted set; exactly the group's pending entries)
 * - `tokens`: the current sessions tokens (hash: `w:<work id>` → token and `t:<token>` → work id)
 * - `meta`: work id → metadata JSON (hash)
 * - `i:<work id>`: one item's other fields (hash; fields in scripts.ts)
 * - `wake`: a pub/sub channel (not a key): an item became deliverable
 *
 * A poll has to name the item it delivers, so everything it reads or writes lives in the
 * environment's own keys (the stream entry carries the item's unchanging fields; its metadata and
 * its token live in `meta` and `tokens`): one script delivers an item without knowing it first.
 *
 * Three lookups are global and never share a script with an environment's keys; each is read
 * or written by single-key commands only: `<prefix>envs` (set of environment ids, for the
 * expiry sweep), `<prefix>envkey:<environment key>` → environment id, and
 * `<prefix>tok:<sessions token>` → environment id (whose `tokens` says whether it is current).
 */

/** The environment's own keys, in the order every script declares them as `KEYS[1..9]`. */
const ENVIRONMENT_KEYS = ['env', 'stamp', 'q', 'leases', 'items', 'workers', 'delivered', 'tokens', 'meta'] as const;

/** The keys of one environment. */
export class EnvironmentKeys {
  /** `<prefix>{<environment id>}:`, the start of every key of the environment. */
  readonly base: string;

  constructor(prefix: string, environmentId: string) {
    this.base = `${prefix}{${environmentId}}:`;
  }

  get record(): string {
    return `${this.base}env`;
  }

  get wakeChannel(): string {
    return `${this.base}wake`;
  }

  item(workId: string): string {
    return `${this.base}i:${workId}`;
  }

  /** What a script declares: the environment's keys (`KEYS[1..9]`), then the items it touches (`KEYS[10..]`). */
  scriptKeys(workIds: readonly string[]): string[] {
    return [...ENVIRONMENT_KEYS.map((name) => this.base + name), ...workIds.map((id) => this.item(id))];
  }
}

/** The global keys (see the module comment). */
export class GlobalKeys {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  get environments(): string {
    return `${this.#prefix}envs`;
  }

  environmentKey(key: string): string {
    return `${this.#prefix}envkey:${key}`;
  }

  sessionsToken(token: string): string {
    return `${this.#prefix}tok:${token}`;
  }

  /** The pattern of every environment's wake channel, and the environment id a channel names. */
  get wakePattern(): string {
    return `${this.#prefix}{*}:wake`;
  }

  environmentOfChannel(channel: string): string | undefined {
    return /\{([^}]+)\}:wake$/.exec(channel)?.[1];
  }
}
