/**
 * The Lua scripts of {@link RedisQueue}: each step that must be atomic across processes is one
 * script (Redis runs a script without interleaving any other command). Debian's Redis is 7.0,
 * which has no `XACKDEL`, so acknowledge-and-delete is a script too.
 *
 * Keys, all under one hash tag `{name}` so a cluster keeps them in one slot:
 * `{name}:stream` (the items), `{name}:dead` (the dead-letter stream), `{name}:meta` (maxsize,
 * shutdown state), `{name}:errors` (the last error recorded per entry id). The pub/sub channel
 * `{name}:events` carries wake-ups: `space`, `drained`, `release`, `shutdown:1`, `shutdown:2`.
 *
 * qsize, the quantity `maxsize` bounds, is `XLEN(stream) - XPENDING(stream, group).count`: the
 * entries put and not yet delivered to any consumer (asyncio's qsize: items not yet taken).
 * Items taken and not acknowledged are not in qsize but keep `join()` waiting.
 */
import { createHash } from "node:crypto";

/**
 * A Lua script run with EVALSHA. The queue loads every script (SCRIPT LOAD) when it connects and
 * reconnects; a server that forgot them (SCRIPT FLUSH, a restart) answers NOSCRIPT, and the queue
 * loads them again once and retries.
 */
export class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }
}

/** The group's qsize, in Lua (keys[1] = stream, group = ARGV[1]). */
const QSIZE = `
local function qsize(stream, group)
  local len = redis.call('XLEN', stream)
  if len == 0 then return 0 end
  local pending = redis.call('XPENDING', stream, group)[1]
  return len - pending
end
`;

/**
 * put: KEYS = stream, meta, channel; ARGV = group, payload. Returns `{id, qsize}` on success,
 * `0` when full, `-1` when the queue was shut down. The maxsize check and the XADD are one step,
 * so producers in any number of processes never push qsize past maxsize.
 */
export const PUT = new Script(`${QSIZE}
local state = redis.call('HGET', KEYS[2], 'shutdown')
if state and state ~= '0' then return -1 end
local maxsize = tonumber(redis.call('HGET', KEYS[2], 'maxsize') or '0')
local size = qsize(KEYS[1], ARGV[1])
if maxsize > 0 and size >= maxsize then return 0 end
local id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[2])
return {id, size + 1}
`);

/** qsize: KEYS = stream; ARGV = group. */
export const SIZE = new Script(`${QSIZE}
return qsize(KEYS[1], ARGV[1])
`);

/**
 * claim: KEYS = stream, dead, errors, channel; ARGV = group, consumer, minIdleMs, count,
 * maxDeliveries. Takes over entries idle past the visibility timeout (a dead or stalled
 * consumer's), moving those delivered more than maxDeliveries times to the dead-letter stream
 * with their last error. Returns `{ {id, payload, deliveries}, ... }`.
 */
export const CLAIM = new Script(`
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local out = {}
local maxd = tonumber(ARGV[5])
local moved = false
for _, e in ipairs(r[2]) do
  if e and e[2] then
    local id = e[1]
    local payload = e[2][2]
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local n = 1
    if p[1] then n = p[1][4] end
    if maxd > 0 and n > maxd then
      local err = redis.call('HGET', KEYS[3], id) or 'not acknowledged (the worker died, timed out or gave it back)'
      redis.call('XADD', KEYS[2], '*', 'd', payload, 'id', id, 'deliveries', tostring(n - 1), 'error', err)
      redis.call('XACK', KEYS[1], ARGV[1], id)
      redis.call('XDEL', KEYS[1], id)
      redis.call('HDEL', KEYS[3], id)
      moved = true
    else
      out[#out + 1] = {id, payload, n}
    end
  end
end
if moved and redis.call('XLEN', KEYS[1]) == 0 then redis.call('PUBLISH', KEYS[4], 'drained') end
return out
`);

/**
 * ack: KEYS = stream, errors, channel; ARGV = group, id... XACK + XDEL (+ the error record) in
 * one step, so an acknowledged entry is never seen again. Returns how many were still pending
 * (less than given: another consumer took an entry over after its visibility timeout).
 */
export const ACK = new Script(`
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(ids))
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('PUBLISH', KEYS[3], 'drained') end
return n
`);

/**
 * dead-letter one entry now (its payload cannot be decoded): KEYS = stream, dead, errors,
 * channel; ARGV = group, id, payload, deliveries, error.
 */
export const DEAD_LETTER = new Script(`
redis.call('XADD', KEYS[2], '*', 'd', ARGV[3], 'id', ARGV[2], 'deliveries', ARGV[4], 'error', ARGV[5])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('PUBLISH', KEYS[4], 'drained') end
return 1
`);

/**
 * release: KEYS = stream, errors, channel; ARGV = group, consumer, idleMs, error, then pairs of
 * (id, deliveries). Gives entries back to the group: idle past the visibility timeout, so the next
 * XAUTOCLAIM anywhere takes them at once, with the delivery count they had before (RETRYCOUNT;
 * JUSTID does not count a delivery). `error` (if not empty) is recorded as their last error.
 * Only entries this consumer still owns are touched: one taken over meanwhile stays with its taker.
 */
export const RELEASE = new Script(`
for i = 5, #ARGV, 2 do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'RETRYCOUNT', ARGV[i + 1], 'JUSTID')
    if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], ARGV[i], ARGV[4]) end
  end
end
redis.call('PUBLISH', KEYS[3], 'release')
return 1
`);

/**
 * shutdown: KEYS = stream, meta, channel; ARGV = group, immediate ('1' or '0'). Records the
 * state and tells every process. Immediate also deletes the entries not yet delivered (asyncio's
 * shutdown(immediate=True) discards the items left, each counting as done).
 */
export const SHUTDOWN = new Script(`
local immediate = ARGV[2] == '1'
local current = redis.call('HGET', KEYS[2], 'shutdown')
if not (current == '2' or (current == '1' and not immediate)) then
  if immediate then redis.call('HSET', KEYS[2], 'shutdown', '2') else redis.call('HSET', KEYS[2], 'shutdown', '1') end
end
if immediate and redis.call('EXISTS', KEYS[1]) == 1 then
  local last = nil
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local fields = {}
    for i = 1, #g, 2 do fields[g[i]] = g[i + 1] end
    if fields['name'] == ARGV[1] then last = fields['last-delivered-id'] end
  end
  if last then
    local ids = redis.call('XRANGE', KEYS[1], '(' .. last, '+')
    for _, e in ipairs(ids) do redis.call('XDEL', KEYS[1], e[1]) end
  end
  if redis.call('XLEN', KEYS[1]) == 0 then redis.call('PUBLISH', KEYS[3], 'drained') end
end
if immediate then redis.call('PUBLISH', KEYS[3], 'shutdown:2') else redis.call('PUBLISH', KEYS[3], 'shutdown:1') end
return 1
`);

/**
 * heartbeat: KEYS = stream; ARGV = group, consumer, id... Resets the idle time of the entries
 * this consumer still owns (XCLAIM JUSTID: no delivery counted), so a long job keeps its claim.
 * An entry taken over by another consumer is left alone (a plain XCLAIM would steal it back).
 */
export const HEARTBEAT = new Script(`
local kept = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept = kept + 1
  end
end
return kept
`);

/** Every script, loaded together (one round trip) on each connection. */
export const SCRIPTS: readonly Script[] = [PUT, SIZE, CLAIM, ACK, DEAD_LETTER, RELEASE, SHUTDOWN, HEARTBEAT];
