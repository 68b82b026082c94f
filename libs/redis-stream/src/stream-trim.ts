import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';

/**
 * Runs on the server so that reading the groups and trimming are one atomic step: a group created or moved back
 * between the two (XGROUP CREATE ... 0, SETID) cannot lose entries. Ids are compared and incremented as decimal
 * strings because their parts are 64-bit and Lua numbers are doubles.
 */
const TRIM_SCRIPT = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local function cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function incr(n)
  local d = {}
  for i = 1, #n do d[i] = string.byte(n, i) - 48 end
  local i = #d
  while i >= 1 and d[i] == 9 do d[i] = 0; i = i - 1 end
  if i == 0 then return '1' .. table.concat(d) end
  d[i] = d[i] + 1
  return table.concat(d)
end
local function parts(id) return string.match(id, '^(%d+)%-(%d+)$') end
local function nextId(id)
  local ms, seq = parts(id)
  if seq == '18446744073709551615' then return incr(ms) .. '-0' end
  return ms .. '-' .. incr(seq)
end
local function less(a, b)
  local am, as = parts(a)
  local bm, bs = parts(b)
  local c = cmp(am, bm)
  if c ~= 0 then return c < 0 end
  return cmp(as, bs) < 0
end
local oldest = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local needed
  if tonumber(info['pending']) > 0 then
    needed = redis.call('XPENDING', key, info['name'])[2]
  else
    needed = nextId(info['last-delivered-id'])
  end
  if oldest == nil or less(needed, oldest) then oldest = needed end
end
if oldest == nil then return 0 end
return redis.call('XTRIM', key, 'MINID', '=', oldest)
`;

/**
 * Removes the entries every consumer group is done with: XTRIM MINID (exact) at the oldest id any group still needs,
 * i.e. its smallest pending id, or the id right after its last-delivered-id when nothing is pending. Never removes an
 * entry that is pending or not yet delivered to some group. No groups (or no stream): removes nothing. Returns the
 * number of entries removed.
 */
export async function trimAcknowledged(redis: RedisClient, stream: string): Promise<number> {
  try {
    await ensureConnected(redis);
    return Number(await redis.eval(TRIM_SCRIPT, 1, stream));
  } catch (err) {
    throw toStreamError(err, `trimming ${stream}`);
  }
}
