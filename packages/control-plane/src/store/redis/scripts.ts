/**
 * The Lua scripts of the Redis store: every state transition of contract §4 is one script, so it
 * is atomic against every other replica. Each script first applies the lease expiries of its
 * environment that fell due at `now`, exactly as the memory store does before every operation;
 * that makes the expiry sweep idempotent (a second replica finds nothing left to expire).
 *
 * Time: every time-dependent decision (lease expiry, reclaim age, stamps) is taken here from the
 * `now` argument, the store's injected clock in microseconds, never from Redis's own clock. The
 * stream is the FIFO and delivery log only: entry ids order the queue, the consumer group's
 * pending list holds the delivered-but-unacked items, and `XCLAIM` with min-idle 0 reclaims one
 * after the hash's delivery stamp says it is old enough (`XAUTOCLAIM`'s idle time is Redis's clock).
 *
 * Every script gets `KEYS[1]` = the environment's record hash, `ARGV[1]` = the environment's key
 * base (`<prefix>{<env id>}:`, so every key of one environment shares a hash tag) and `ARGV[2]` =
 * now. Item keys are derived from the base inside the script; they share the hash tag.
 *
 * Item hash fields: id, dt/di (data type/id), c (created), s (state), a (acknowledged), st
 * (started), hb (last heartbeat, the fencing value), sr (stop requested), sp (stopped), m
 * (metadata JSON), qa (queued at), d (delivered at), tok (sessions token), exp/ttl (lease),
 * sid (stream entry id while queued). An absent field is null. Times are decimal microseconds.
 */

const PRELUDE = `
local base = ARGV[1]
local now = tonumber(ARGV[2])
local STREAM = base .. 'q'
local GROUP = 'workers'
local LEASES = base .. 'leases'
local ITEMS = base .. 'items'
local STAMP = base .. 'stamp'
local WORKERS = base .. 'workers'

local function fmt(n) return string.format('%.0f', n) end
local function itemKey(id) return base .. 'i:' .. id end

-- Strictly increasing stamps per environment: the clock's reading, or 1 µs past the last one.
local function stamp()
  local last = tonumber(redis.call('GET', STAMP) or '-1')
  local s = math.max(now, last + 1)
  redis.call('SET', STAMP, fmt(s))
  return s
end

local function enqueueAt(key, id, at)
  local sid = redis.call('XADD', STREAM, '*', 'w', id)
  redis.call('HSET', key, 'sid', sid, 'qa', fmt(at))
  redis.call('HDEL', key, 'd')
end

-- Takes a queued item out of the stream and the pending list (acknowledged or stopped).
local function dequeue(key)
  local sid = redis.call('HGET', key, 'sid')
  if sid then
    redis.call('XACK', STREAM, GROUP, sid)
    redis.call('XDEL', STREAM, sid)
  end
  redis.call('HDEL', key, 'sid', 'd', 'qa')
end

local function finish(key, id, at)
  redis.call('ZREM', LEASES, id)
  redis.call('HDEL', key, 'exp', 'ttl')
  redis.call('HSET', key, 's', 'stopped', 'sp', fmt(at))
end

local function grant(key, id, from, ttl)
  local exp = from + ttl * 1000000
  redis.call('HSET', key, 'exp', fmt(exp), 'ttl', ttl)
  redis.call('ZADD', LEASES, fmt(exp), id)
end

-- Applies every lease expiry due at now, soonest first: stopping items stop, others are re-queued.
local function expire()
  local due = redis.call('ZRANGEBYSCORE', LEASES, '-inf', fmt(now))
  local requeued = 0
  for _, id in ipairs(due) do
    local key = itemKey(id)
    if redis.call('HGET', key, 's') == 'stopping' then
      finish(key, id, stamp())
    else
      redis.call('ZREM', LEASES, id)
      redis.call('HDEL', key, 'exp', 'ttl', 'tok', 'a', 'st', 'hb')
      redis.call('HSET', key, 's', 'queued')
      enqueueAt(key, id, stamp())
      requeued = requeued + 1
    end
  end
  if requeued > 0 then redis.call('PUBLISH', base .. 'wake', 'requeue') end
end

local function checkEnv()
  if redis.call('EXISTS', KEYS[1]) == 0 then return false end
  expire()
  return true
end
`;

/** A script: the prelude and its body. */
export interface ScriptSource {
  readonly lua: string;
}

function script(body: string): ScriptSource {
  return { lua: PRELUDE + body };
}

/**
 * Replies: `{'noenv'}`, `{'nowork'}`, `{'conflict', state}`, or `{'ok', <HGETALL of the item>, …}`.
 */
export const SCRIPTS = {
  /** ARGV[3] name, ARGV[4] key, ARGV[5] id. Creates the record, the stream and its group. */
  createEnvironment: script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
local created = stamp()
redis.call('HSET', KEYS[1], 'id', ARGV[5], 'name', ARGV[3], 'key', ARGV[4], 'created_at', fmt(created))
redis.call('XGROUP', 'CREATE', STREAM, GROUP, '$', 'MKSTREAM')
return {'ok', fmt(created)}
`),

  /** Applies due expiries only (the sweep any replica may run at any time). */
  expire: script(`
if not checkEnv() then return {'noenv'} end
return {'ok'}
`),

  /** ARGV[3] work id, ARGV[4] data type, ARGV[5] data id, ARGV[6] metadata JSON. */
  enqueue: script(`
if not checkEnv() then return {'noenv'} end
local id = ARGV[3]
local key = itemKey(id)
if redis.call('EXISTS', key) == 1 then return {'duplicate'} end
local created = stamp()
redis.call('HSET', key, 'id', id, 'dt', ARGV[4], 'di', ARGV[5], 'c', fmt(created), 's', 'queued', 'm', ARGV[6])
redis.call('ZADD', ITEMS, fmt(created), id)
enqueueAt(key, id, created)
redis.call('PUBLISH', base .. 'wake', 'enqueue')
return {'ok', redis.call('HGETALL', key)}
`),

  /**
   * ARGV[3] reclaim age µs, ARGV[4] worker id ('' for none), ARGV[5] a fresh sessions token.
   * A delivered item is reclaimable once now - delivered > reclaim age. Every pending entry was
   * read with '>' before, so its id is below every unread entry's: the first reclaimable pending
   * entry, if any, always comes before the next unread one in FIFO order.
   * Reply: {'ok', item, old token} or {'none', earliest lease end, oldest delivery} ('' when none).
   */
  poll: script(`
if not checkEnv() then return {'noenv'} end
local reclaim = tonumber(ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', WORKERS, fmt(now), ARGV[4])
  redis.call('ZREMRANGEBYSCORE', WORKERS, '-inf', '(' .. fmt(now - 30000000))
end
local chosen = nil
local oldest = nil
local start = '-'
while chosen == nil do
  local page = redis.call('XPENDING', STREAM, GROUP, start, '+', 100)
  if #page == 0 then break end
  for _, entry in ipairs(page) do
    local sid = entry[1]
    local found = redis.call('XRANGE', STREAM, sid, sid)
    if #found > 0 then
      local id = found[1][2][2]
      local delivered = tonumber(redis.call('HGET', itemKey(id), 'd') or '0')
      if oldest == nil or delivered < oldest then oldest = delivered end
      if now - delivered > reclaim then
        chosen = id
        redis.call('XCLAIM', STREAM, GROUP, 'pollers', 0, sid)
        break
      end
    end
  end
  start = '(' .. page[#page][1]
end
if chosen == nil then
  local read = redis.call('XREADGROUP', 'GROUP', GROUP, 'pollers', 'COUNT', 1, 'STREAMS', STREAM, '>')
  if read and #read > 0 and #read[1][2] > 0 then chosen = read[1][2][1][2][2] end
end
if chosen == nil then
  local lease = redis.call('ZRANGE', LEASES, 0, 0, 'WITHSCORES')
  return {'none', lease[2] or '', oldest and fmt(oldest) or ''}
end
local key = itemKey(chosen)
local old = redis.call('HGET', key, 'tok') or ''
redis.call('HSET', key, 'd', fmt(now), 'tok', ARGV[5])
return {'ok', redis.call('HGETALL', key), old}
`),

  /** ARGV[3] work id. */
  get: script(`
if not checkEnv() then return {'noenv'} end
local key = itemKey(ARGV[3])
if redis.call('EXISTS', key) == 0 then return {'nowork'} end
return {'ok', redis.call('HGETALL', key)}
`),

  /** ARGV[3] work id, ARGV[4] default TTL seconds. */
  ack: script(`
if not checkEnv() then return {'noenv'} end
local id = ARGV[3]
local key = itemKey(id)
if redis.call('EXISTS', key) == 0 then return {'nowork'} end
local state = redis.call('HGET', key, 's')
if state == 'queued' then
  if not redis.call('HGET', key, 'd') then return {'undelivered'} end
  dequeue(key)
  local at = stamp()
  redis.call('HSET', key, 's', 'starting', 'a', fmt(at))
  grant(key, id, at, tonumber(ARGV[4]))
elseif state == 'stopping' or state == 'stopped' then
  return {'conflict', state}
end
return {'ok', redis.call('HGETALL', key)}
`),

  /**
   * ARGV[3] work id, ARGV[4] the echo: 'any' (none sent), 'none' (NO_HEARTBEAT), 'never' (a
   * string that is no stamp of ours) or decimal µs; ARGV[5] the clamped TTL in seconds.
   * Reply: {'stopped', last}, {'precond', state, hb or '', ttl or '0'}, {'queued'} or {'ok', item}.
   */
  heartbeat: script(`
if not checkEnv() then return {'noenv'} end
local id = ARGV[3]
local key = itemKey(id)
if redis.call('EXISTS', key) == 0 then return {'nowork'} end
local state = redis.call('HGET', key, 's')
local hb = redis.call('HGET', key, 'hb')
if state == 'stopped' then return {'stopped', hb or redis.call('HGET', key, 'sp')} end
local expected = ARGV[4]
if expected ~= 'any' then
  local matches = (expected == 'none' and not hb) or (hb and expected == hb)
  if not matches then return {'precond', state, hb or '', redis.call('HGET', key, 'ttl') or '0'} end
end
if state == 'queued' then return {'queued'} end
local at = stamp()
redis.call('HSET', key, 'hb', fmt(at))
if state == 'starting' then redis.call('HSET', key, 's', 'active', 'st', fmt(at)) end
grant(key, id, at, tonumber(ARGV[5]))
return {'ok', redis.call('HGETALL', key)}
`),

  /** ARGV[3] work id, ARGV[4] '1' for force. */
  stop: script(`
if not checkEnv() then return {'noenv'} end
local id = ARGV[3]
local key = itemKey(id)
if redis.call('EXISTS', key) == 0 then return {'nowork'} end
local state = redis.call('HGET', key, 's')
if state == 'queued' then
  dequeue(key)
  finish(key, id, stamp())
elseif state == 'starting' or state == 'active' then
  local at = stamp()
  redis.call('HSET', key, 'sr', fmt(at))
  if ARGV[4] == '1' then finish(key, id, at) else redis.call('HSET', key, 's', 'stopping') end
elseif state == 'stopping' then
  finish(key, id, stamp())
else
  return {'conflict', state}
end
return {'ok', redis.call('HGETALL', key)}
`),

  /** ARGV[3] work id, ARGV[4] the metadata JSON read before, ARGV[5] the new one (compare-and-set). */
  setMetadata: script(`
if not checkEnv() then return {'noenv'} end
local key = itemKey(ARGV[3])
if redis.call('EXISTS', key) == 0 then return {'nowork'} end
if redis.call('HGET', key, 'm') ~= ARGV[4] then return {'changed'} end
redis.call('HSET', key, 'm', ARGV[5])
return {'ok', redis.call('HGETALL', key)}
`),

  /**
   * ARGV[3] limit, ARGV[4] cursor created µs ('' for the first page), ARGV[5] cursor id.
   * Stamps are unique per environment, so at most one item shares the cursor's created_at.
   * Reply: {'ok', more ('1'/'0'), item, item, …} newest first.
   */
  list: script(`
if not checkEnv() then return {'noenv'} end
local limit = tonumber(ARGV[3])
local ids
if ARGV[4] == '' then
  ids = redis.call('ZREVRANGEBYSCORE', ITEMS, '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
else
  ids = redis.call('ZREVRANGEBYSCORE', ITEMS, ARGV[4], '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 2)
end
local reply = {'ok', '0'}
local taken = 0
for i = 1, #ids, 2 do
  local id, score = ids[i], ids[i + 1]
  local after = ARGV[4] == '' or score ~= ARGV[4] or id < ARGV[5]
  if after then
    if taken == limit then reply[2] = '1' break end
    reply[#reply + 1] = redis.call('HGETALL', itemKey(id))
    taken = taken + 1
  end
end
return reply
`),

  /** Reply: {'ok', depth, pending, oldest queued_at or '', workers polling}. */
  stats: script(`
if not checkEnv() then return {'noenv'} end
local pending = redis.call('XPENDING', STREAM, GROUP)[1]
local length = redis.call('XLEN', STREAM)
local first = redis.call('XRANGE', STREAM, '-', '+', 'COUNT', 1)
local oldest = ''
if #first > 0 then oldest = redis.call('HGET', itemKey(first[1][2][2]), 'qa') or '' end
redis.call('ZREMRANGEBYSCORE', WORKERS, '-inf', '(' .. fmt(now - 30000000))
local workers = redis.call('ZCOUNT', WORKERS, fmt(now - 30000000), '+inf')
return {'ok', length - pending, pending, oldest, workers}
`),

  /** ARGV[3] work id, ARGV[4] token: whether the token is still the item's current one. */
  resolveToken: script(`
if not checkEnv() then return {'noenv'} end
if redis.call('HGET', itemKey(ARGV[3]), 'tok') == ARGV[4] then return {'ok'} end
return {'revoked'}
`),
} as const satisfies Record<string, ScriptSource>;

export type ScriptName = keyof typeof SCRIPTS;
