import type { Redis } from 'ioredis';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';

/**
 * Creates `group` on `stream` at id 0, creating the stream too (MKSTREAM), so entries added before the group existed
 * are still delivered. Resolves 'exists' when the group is already there (BUSYGROUP); throws StreamError otherwise.
 */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<'created' | 'exists'> {
  try {
    await ensureConnected(redis);
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    return 'created';
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('BUSYGROUP')) return 'exists';
    throw toStreamError(err, `XGROUP CREATE ${group} on ${stream}`);
  }
}
