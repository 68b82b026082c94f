import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';

/**
 * Creates `group` on `stream` at id 0, creating the stream too (MKSTREAM), so entries added before the group existed
 * are still delivered. Resolves 'exists' when the group is already there (BUSYGROUP); throws StreamError otherwise.
 */
export async function ensureGroup(redis: RedisClient, stream: string, group: string): Promise<'created' | 'exists'> {
  try {
    await ensureConnected(redis);
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    return 'created';
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('BUSYGROUP')) return 'exists';
    throw toStreamError(err, `XGROUP CREATE ${group} on ${stream}`);
  }
}

/**
 * Runs on the server, so that "no pending entries" and the removal are one atomic step: a consumer that reads (and so
 * gets pending entries) between the check and XGROUP DELCONSUMER would otherwise lose them, since DELCONSUMER drops
 * a consumer's pending entries with it.
 */
const REMOVE_GONE_SCRIPT = `
local removed = {}
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] ~= ARGV[3] and tonumber(info['pending']) == 0 and tonumber(info['idle']) >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed[#removed + 1] = info['name']
  end
end
return removed
`;

/** Options for {@link removeGoneConsumers}. */
export interface RemoveGoneConsumersOptions {
  stream: string;
  group: string;
  /** A consumer idle at least this long is gone. */
  idleMs: number;
  /** Never removed (the caller itself). */
  keep: string;
}

/**
 * Removes the group's consumers that have been idle for `idleMs` and hold no pending entries (a replica that restarted
 * under a new name, one that was scaled away), and returns their names. A gone consumer with pending entries stays
 * until idle claims have taken them over: its entries are never deleted with it. Removing a live consumer by mistake
 * would be harmless: it has nothing pending, and its next read adds it back.
 */
export async function removeGoneConsumers(redis: RedisClient, options: RemoveGoneConsumersOptions): Promise<string[]> {
  const { stream, group, idleMs, keep } = options;
  try {
    await ensureConnected(redis);
    const removed = (await redis.eval(REMOVE_GONE_SCRIPT, 1, stream, group, idleMs, keep)) as string[];
    return removed.map(String);
  } catch (err) {
    throw toStreamError(err, `removing gone consumers of ${stream}/${group}`);
  }
}
