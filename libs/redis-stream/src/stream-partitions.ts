import { crc32 } from 'node:zlib';
import { Cluster } from 'ioredis';
import { ensureConnected } from './redis-connect.js';
import type { RedisClient } from './redis-client.js';
import { toStreamError } from './redis-error-kinds.js';

/**
 * The streams of `streamKey` with `partitions` partitions: `streamKey` itself for one, else `streamKey:{0}` ...
 * `streamKey:{N-1}`, each with a hash tag of its own so that on Redis Cluster they spread over the nodes.
 */
export function partitionStreams(streamKey: string, partitions: number): string[] {
  if (partitions <= 1) return [streamKey];
  return Array.from({ length: partitions }, (_, i) => `${streamKey}:{${i}}`);
}

/** The partition of `key` (an event's `session_id`, else its `event_id`): `crc32(key, UTF-8) mod partitions`. */
export function partitionOf(key: string, partitions: number): number {
  return partitions <= 1 ? 0 : crc32(key) % partitions;
}

/** The stream an event with routing `key` goes to (see {@link partitionOf}). */
export function partitionStream(streamKey: string, partitions: number, key: string): string {
  return partitionStreams(streamKey, partitions)[partitionOf(key, partitions)] as string;
}

// Glob-escaped, so a STREAM_KEY with * ? [ ] or \ in it matches only itself.
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The streams of `streamKey` outside the current set (the unpartitioned key when there are partitions now, or
 * partitions numbered `partitions` and above) that still exist, so that a change of STREAM_PARTITIONS strands nothing:
 * consumers keep draining them. Scans every primary of a cluster (one SCAN ... TYPE stream per node).
 */
export async function findStrayStreams(redis: RedisClient, streamKey: string, partitions: number): Promise<string[]> {
  const current = new Set(partitionStreams(streamKey, partitions));
  const pattern = `${globLiteral(streamKey)}:{*}`;
  try {
    await ensureConnected(redis);
    const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
    const found = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000, 'TYPE', 'stream');
        cursor = next;
        for (const key of keys) if (/:\{\d+\}$/.test(key.slice(streamKey.length))) found.add(key);
      } while (cursor !== '0');
    }
    if (!current.has(streamKey) && (await redis.type(streamKey)) === 'stream') found.add(streamKey);
    return [...found].filter((key) => !current.has(key)).sort();
  } catch (err) {
    throw toStreamError(err, `looking for streams of ${streamKey} outside the current partitions`);
  }
}
