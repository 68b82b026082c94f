import { isUnsentError } from '@sluice/redis-stream';
import type { Cluster, Redis } from 'ioredis';
import type { Answer } from './ledger.js';

/** How one XADD straight into a stream ended: the answer for the ledger, its status, and the entry id when one came. */
export interface FedEntry {
  answer: Answer;
  status: 'xadd ok' | 'xadd refused' | 'xadd no answer' | 'xadd unconfirmed';
  entryId?: string;
}

const WAIT_TIMEOUT_MS = 1000;

/**
 * XADDs raw `fields` to `stream`, as a producer that bypasses the API would. With `waitReplicas`, a WAIT rides in the
 * same pipeline (so it reaches the node that took the write) and the entry counts as accepted only once that many
 * replicas confirmed it: replication is asynchronous, and an entry only the primary held can go with a failover, so
 * fewer confirmations make it unknown (it may stay), as the API's 503 does. Refused when the command provably never
 * ran (no connection, a refusal such as MOVED or READONLY); unknown when it was sent and no answer came.
 */
export async function feedEntry(
  redis: Redis | Cluster,
  stream: string,
  fields: readonly string[],
  waitReplicas: number,
): Promise<FedEntry> {
  try {
    if (waitReplicas === 0) {
      const entryId = await redis.xadd(stream, '*', ...fields);
      return { answer: 'accepted', status: 'xadd ok', ...(entryId ? { entryId } : {}) };
    }
    const replies = await redis
      .pipeline()
      .xadd(stream, '*', ...fields)
      .wait(waitReplicas, WAIT_TIMEOUT_MS)
      .exec();
    const [[addErr, entryId] = [null, null], [waitErr, confirmed] = [null, 0]] = replies ?? [];
    if (addErr) throw addErr;
    const id = typeof entryId === 'string' ? { entryId } : {};
    if (waitErr || Number(confirmed) < waitReplicas) return { answer: 'unknown', status: 'xadd unconfirmed', ...id };
    return { answer: 'accepted', status: 'xadd ok', ...id };
  } catch (err) {
    return isUnsentError(err)
      ? { answer: 'refused', status: 'xadd refused' }
      : { answer: 'unknown', status: 'xadd no answer' };
  }
}
