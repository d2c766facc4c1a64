/**
 * The Lua scripts of the Redis store: every state transition of contract §4 is one script, so it
 * is atomic against every other replica.
 *
 * Keys: every script declares every key it touches, all of one environment (one hash tag, one
 * Redis Cluster slot): `KEYS[1..9]` are the environment's keys in the order of keys.ts, and
 * `KEYS[10..]` the items the script is about. A script never derives a key itself. Each starts
 * with a shebang (Redis 7), so that Redis Cluster refuses it any key outside the slot of its
 * declared keys (without one, Redis lets a script reach keys of other slots on the same node);
 * the read-only ones say `flags=no-writes`. A poll delivers an item it does not know beforehand,
 * so it touches only the environment's keys (see keys.ts).
 *
 * Expiry: the memory store applies every lease expiry that fell due before each operation. A
 * script cannot do that here, since the items whose leases are due are not declared; so every
 * operation's script first checks that no lease of its environment is due at `now` and otherwise
 * answers `{'due', ids}` without changing anything. The store then runs `expireLease` for each of
 * those items (soonest first; each re-checks that its lease is still due, so a replica racing
 * another one expires nothing twice) and runs the operation again. Observably that is the same as
 * "expire first, then operate", and the common case stays one script call.
 *
 * Time: every time-dependent decision (lease expiry, reclaim age, stamps) is taken from `ARGV[1]`,
 * now in microseconds on the store's injected clock, never from Redis's own clock. The stream is
 * the FIFO and delivery log only: entry ids order the queue, the consumer group's pending list
 * holds the delivered-but-unacked items, and `XCLAIM` with min-idle 0 reclaims one after the
 * `delivered` sorted set says it is old enough (`XAUTOCLAIM`'s idle time is Redis's clock).
 *
 * Item hash fields: id, dt/di (data type/id), c (created), s (state), a (acknowledged), st
 * (started), hb (last heartbeat, the fencing value), sr (stop requested), sp (stopped), exp/ttl
 * (lease), sid (stream entry id while queued); replies add m (metadata JSON, from `meta`). A
 * stream entry holds w (work id), dt, di, c and qa (queued at). An absent field is null. Times are
 * decimal microseconds.
 */

const PRELUDE = `
local ENV, STAMP, STREAM, LEASES, ITEMS, WORKERS, DELIVERED, TOKENS, META = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local ITEM = KEYS[10]
local GROUP = 'workers'
local now = tonumber(ARGV[1])

local function fmt(n) return string.format('%.0f', n) end

-- Strictly increasing stamps per environment: the clock's reading, or 1 µs past the last one.
local function stamp()
  local last = tonumber(redis.call('GET', STAMP) or '-1')
  local s = math.max(now, last + 1)
  redis.call('SET', STAMP, fmt(s))
  return s
end

-- The reply that stops an operation before it changes anything: no such environment, or leases
-- due at now that must be expired first. nil when the operation may go on.
local function refusal()
  if redis.call('EXISTS', ENV) == 0 then return {'noenv'} end
  local due = redis.call('ZRANGEBYSCORE', LEASES, '-inf', fmt(now), 'LIMIT', 0, 100)
  if #due > 0 then return {'due', due} end
  return nil
end

-- An item's fields with its metadata: what a reply carries.
local function itemFields(key, id)
  local fields = redis.call('HGETALL', key)
  fields[#fields + 1] = 'm'
  fields[#fields + 1] = redis.call('HGET', META, id) or '[]'
  return fields
end

-- Revokes the item's current sessions token; returns it (nil when it had none).
local function revokeToken(id)
  local token = redis.call('HGET', TOKENS, 'w:' .. id)
  if token then redis.call('HDEL', TOKENS, 'w:' .. id, 't:' .. token) end
  return token
end

-- Queues ITEM at the tail; the entry carries what a poll answers with, and the queued-at time.
local function enqueueAt(id, at)
  local data = redis.call('HMGET', ITEM, 'dt', 'di', 'c')
  local sid = redis.call('XADD', STREAM, '*', 'w', id, 'dt', data[1], 'di', data[2], 'c', data[3], 'qa', fmt(at))
  redis.call('HSET', ITEM, 'sid', sid)
end

-- Takes a queued ITEM out of the stream and the pending list (acknowledged or stopped).
local function dequeue()
  local sid = redis.call('HGET', ITEM, 'sid')
  if sid then
    redis.call('XACK', STREAM, GROUP, sid)
    redis.call('XDEL', STREAM, sid)
    redis.call('ZREM', DELIVERED, sid)
    redis.call('HDEL', ITEM, 'sid')
  end
end

local function finish(id, at)
  redis.call('ZREM', LEASES, id)
  redis.call('HDEL', ITEM, 'exp', 'ttl')
  redis.call('HSET', ITEM, 's', 'stopped', 'sp', fmt(at))
end

local function grant(id, from, ttl)
  local exp = from + ttl * 1000000
  redis.call('HSET', ITEM, 'exp', fmt(exp), 'ttl', ttl)
  redis.call('ZADD', LEASES, fmt(exp), id)
end

-- The first pending entry, in FIFO order, delivered more than reclaim µs ago (its entry id), or
-- nil. The sorted set answers "is there any" at once; only then is the pending list walked.
local function firstReclaimable(reclaim)
  if #redis.call('ZRANGEBYSCORE', DELIVERED, '-inf', '(' .. fmt(now - reclaim), 'LIMIT', 0, 1) == 0 then return nil end
  local start = '-'
  while true do
    local page = redis.call('XPENDING', STREAM, GROUP, start, '+', 100)
    if #page == 0 then return nil end
    local sids = {}
    for i, entry in ipairs(page) do sids[i] = entry[1] end
    local delivered = redis.call('ZMSCORE', DELIVERED, unpack(sids))
    for i, sid in ipairs(sids) do
      if delivered[i] and now - tonumber(delivered[i]) > reclaim then return sid end
    end
    start = '(' .. sids[#sids]
  end
end
`;

/** A script's source. */
export interface ScriptSource {
  readonly lua: string;
}

/**
 * The opening of every script on one item (ARGV[2] its id, ITEM its hash): the environment's
 * refusal (missing, or leases due), then `nowork` when the item does not exist.
 */
const ON_ITEM = `local refused = refusal()
if refused then return refused end
local id = ARGV[2]
if redis.call('EXISTS', ITEM) == 0 then return {'nowork'} end
`;

function writer(body: string): ScriptSource {
  return { lua: `#!lua\n${PRELUDE}${body}` };
}

/** A script that only reads: `no-writes` lets Redis run it where writes are refused (a replica, a full memory). */
function reader(body: string): ScriptSource {
  return { lua: `#!lua flags=no-writes\n${PRELUDE}${body}` };
}

/**
 * Each script's `ARGV[1]` is now, and a script about one item has `KEYS[10]` = the item and
 * `ARGV[2]` = its work id; its other arguments are listed with it. Replies: `{'noenv'}`,
 * `{'due', ids}` (see above), `{'nowork'}`, `{'conflict', state}`, or `{'ok', <item fields>, …}`.
 */
export const SCRIPTS = {
  /** ARGV[2] name, ARGV[3] key, ARGV[4] id. Creates the record, the stream and its group. */
  createEnvironment: writer(`
if redis.call('EXISTS', ENV) == 1 then return {'exists'} end
local created = stamp()
redis.call('HSET', ENV, 'id', ARGV[4], 'name', ARGV[2], 'key', ARGV[3], 'created_at', fmt(created))
redis.call('XGROUP', 'CREATE', STREAM, GROUP, '$', 'MKSTREAM')
return {'ok', fmt(created)}
`),

  /** Only the checks every operation starts with: what the expiry sweep runs per environment. */
  check: reader(`
return refusal() or {'ok'}
`),

  /**
   * ARGV[3] the wake channel. Applies the item's lease expiry if the lease is still due: a
   * stopping item stops; another one is re-queued at the tail, its token revoked.
   */
  expireLease: writer(`
if redis.call('EXISTS', ENV) == 0 then return {'noenv'} end
local id = ARGV[2]
local leaseEnd = redis.call('ZSCORE', LEASES, id)
if not leaseEnd or tonumber(leaseEnd) > now then return {'ok'} end
if redis.call('HGET', ITEM, 's') == 'stopping' then
  finish(id, stamp())
else
  redis.call('ZREM', LEASES, id)
  redis.call('HDEL', ITEM, 'exp', 'ttl', 'a', 'st', 'hb')
  revokeToken(id)
  redis.call('HSET', ITEM, 's', 'queued')
  enqueueAt(id, stamp())
  redis.call('PUBLISH', ARGV[3], 'requeue')
end
return {'ok'}
`),

  /** KEYS[10] the new item; ARGV[3] the wake channel, ARGV[4] data type, ARGV[5] data id, ARGV[6] metadata JSON. */
  enqueue: writer(`
local refused = refusal()
if refused then return refused end
local id = ARGV[2]
if redis.call('EXISTS', ITEM) == 1 then return {'duplicate'} end
local created = stamp()
redis.call('HSET', ITEM, 'id', id, 'dt', ARGV[4], 'di', ARGV[5], 'c', fmt(created), 's', 'queued')
redis.call('HSET', META, id, ARGV[6])
redis.call('ZADD', ITEMS, fmt(created), id)
enqueueAt(id, created)
redis.call('PUBLISH', ARGV[3], 'enqueue')
return {'ok', itemFields(ITEM, id)}
`),

  /**
   * Delivers the next deliverable item with a fresh token and notes the worker. ARGV[2] reclaim
   * age µs, ARGV[3] worker id ('' for none), ARGV[4] the fresh sessions token. A delivered item
   * is reclaimable once now - delivered > reclaim age; every pending entry was read before every
   * unread one, so the first reclaimable one, if any, comes first in FIFO order. A queued item
   * has no time but created_at, so its stream entry and its metadata make the whole answer.
   * Reply: {'ok', item fields, old token ('' for none)} or {'none', earliest lease end, oldest
   * delivery} ('' when none).
   */
  poll: writer(`
local refused = refusal()
if refused then return refused end
if ARGV[3] ~= '' then
  redis.call('ZADD', WORKERS, fmt(now), ARGV[3])
  redis.call('ZREMRANGEBYSCORE', WORKERS, '-inf', '(' .. fmt(now - 30000000))
end
local entry = nil
local reclaimable = firstReclaimable(tonumber(ARGV[2]))
if reclaimable then entry = redis.call('XCLAIM', STREAM, GROUP, 'pollers', 0, reclaimable)[1] end
if not entry then
  local read = redis.call('XREADGROUP', 'GROUP', GROUP, 'pollers', 'COUNT', 1, 'STREAMS', STREAM, '>')
  if read then entry = read[1][2][1] end
end
if not entry then
  local lease = redis.call('ZRANGE', LEASES, 0, 0, 'WITHSCORES')
  local oldest = redis.call('ZRANGE', DELIVERED, 0, 0, 'WITHSCORES')
  return {'none', lease[2] or '', oldest[2] or ''}
end
local fields = {}
for i = 1, #entry[2], 2 do fields[entry[2][i]] = entry[2][i + 1] end
local id = fields['w']
redis.call('ZADD', DELIVERED, fmt(now), entry[1])
local old = revokeToken(id) or ''
redis.call('HSET', TOKENS, 'w:' .. id, ARGV[4], 't:' .. ARGV[4], id)
local item = {'id', id, 'dt', fields['dt'], 'di', fields['di'], 'c', fields['c'], 's', 'queued', 'm', redis.call('HGET', META, id) or '[]'}
return {'ok', item, old}
`),

  get: reader(`
${ON_ITEM}return {'ok', itemFields(ITEM, id)}
`),

  /** ARGV[3] default TTL seconds. */
  ack: writer(`
${ON_ITEM}local state = redis.call('HGET', ITEM, 's')
if state == 'queued' then
  local sid = redis.call('HGET', ITEM, 'sid')
  if not (sid and redis.call('ZSCORE', DELIVERED, sid)) then return {'undelivered'} end
  dequeue()
  local at = stamp()
  redis.call('HSET', ITEM, 's', 'starting', 'a', fmt(at))
  grant(id, at, tonumber(ARGV[3]))
elseif state == 'stopping' or state == 'stopped' then
  return {'conflict', state}
end
return {'ok', itemFields(ITEM, id)}
`),

  /**
   * ARGV[3] the echo: 'any' (none sent), 'none' (NO_HEARTBEAT), 'never' (a string that is no
   * stamp of ours) or decimal µs; ARGV[4] the clamped TTL in seconds. Reply: {'stopped', last},
   * {'precond', state, hb or '', ttl or '0'}, {'queued'} or {'ok', item fields}.
   */
  heartbeat: writer(`
${ON_ITEM}local state = redis.call('HGET', ITEM, 's')
local hb = redis.call('HGET', ITEM, 'hb')
if state == 'stopped' then return {'stopped', hb or redis.call('HGET', ITEM, 'sp')} end
local expected = ARGV[3]
if expected ~= 'any' then
  local matches = (expected == 'none' and not hb) or (hb and expected == hb)
  if not matches then return {'precond', state, hb or '', redis.call('HGET', ITEM, 'ttl') or '0'} end
end
if state == 'queued' then return {'queued'} end
local at = stamp()
redis.call('HSET', ITEM, 'hb', fmt(at))
if state == 'starting' then redis.call('HSET', ITEM, 's', 'active', 'st', fmt(at)) end
grant(id, at, tonumber(ARGV[4]))
return {'ok', itemFields(ITEM, id)}
`),

  /** ARGV[3] '1' for force. */
  stop: writer(`
${ON_ITEM}local state = redis.call('HGET', ITEM, 's')
if state == 'queued' then
  dequeue()
  finish(id, stamp())
elseif state == 'starting' or state == 'active' then
  local at = stamp()
  redis.call('HSET', ITEM, 'sr', fmt(at))
  if ARGV[3] == '1' then finish(id, at) else redis.call('HSET', ITEM, 's', 'stopping') end
elseif state == 'stopping' then
  finish(id, stamp())
else
  return {'conflict', state}
end
return {'ok', itemFields(ITEM, id)}
`),

  /** ARGV[3] the metadata JSON read before, ARGV[4] the new one (compare-and-set). */
  setMetadata: writer(`
${ON_ITEM}if (redis.call('HGET', META, id) or '[]') ~= ARGV[3] then return {'changed'} end
redis.call('HSET', META, id, ARGV[4])
return {'ok', itemFields(ITEM, id)}
`),

  /**
   * The first half of a list: the ids of one page. ARGV[2] limit, ARGV[3] cursor created µs (''
   * for the first page), ARGV[4] cursor id. Stamps are unique per environment, so at most one item
   * shares the cursor's created_at. Reply: {'ok', more ('1'/'0'), id, id, …} newest first.
   */
  listPage: reader(`
local refused = refusal()
if refused then return refused end
local limit = tonumber(ARGV[2])
local ids
if ARGV[3] == '' then
  ids = redis.call('ZREVRANGEBYSCORE', ITEMS, '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
else
  ids = redis.call('ZREVRANGEBYSCORE', ITEMS, ARGV[3], '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 2)
end
local reply = {'ok', '0'}
local taken = 0
for i = 1, #ids, 2 do
  local id, score = ids[i], ids[i + 1]
  if ARGV[3] == '' or score ~= ARGV[3] or id < ARGV[4] then
    if taken == limit then reply[2] = '1' break end
    reply[#reply + 1] = id
    taken = taken + 1
  end
end
return reply
`),

  /** The second half of a list: KEYS[10..] the page's items, ARGV[2..] their ids. Reply: {'ok', item fields, …} in that order. */
  listItems: reader(`
local refused = refusal()
if refused then return refused end
local reply = {'ok'}
for i = 10, #KEYS do reply[#reply + 1] = itemFields(KEYS[i], ARGV[i - 8]) end
return reply
`),

  /** Reply: {'ok', depth, pending, oldest queued_at or '', workers polling}. */
  stats: writer(`
local refused = refusal()
if refused then return refused end
local pending = redis.call('XPENDING', STREAM, GROUP)[1]
local length = redis.call('XLEN', STREAM)
local first = redis.call('XRANGE', STREAM, '-', '+', 'COUNT', 1)
local oldest = ''
if #first > 0 then
  local values = first[1][2]
  for i = 1, #values, 2 do if values[i] == 'qa' then oldest = values[i + 1] end end
end
redis.call('ZREMRANGEBYSCORE', WORKERS, '-inf', '(' .. fmt(now - 30000000))
local workers = redis.call('ZCOUNT', WORKERS, fmt(now - 30000000), '+inf')
return {'ok', length - pending, pending, oldest, workers}
`),

  /** ARGV[2] a sessions token. Reply: {'ok', work id} while it is that item's current token, else {'revoked'}. */
  resolveToken: reader(`
local refused = refusal()
if refused then return refused end
local id = redis.call('HGET', TOKENS, 't:' .. ARGV[2])
if id then return {'ok', id} end
return {'revoked'}
`),
} as const satisfies Record<string, ScriptSource>;

export type ScriptName = keyof typeof SCRIPTS;
