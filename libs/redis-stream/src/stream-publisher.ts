import type { RedisClient } from './redis-client.js';
import { EVENT_FIELD, encodeEvent } from './stream-entry.js';
import { ensureConnected } from './redis-connect.js';
import { isRedisUnavailableError, toStreamError } from './redis-error-kinds.js';
import { EventEncodingError, StreamError, StreamUnavailableError } from './stream-errors.js';

/** Options for {@link publishBatch}. */
export interface PublishBatchOptions {
  /**
   * MULTI/EXEC: every event is added or none is. When any event cannot be serialised nothing is sent and every index
   * is reported in `failed` (the unserialisable ones with their own reason). @defaultValue false
   */
  atomic?: boolean;
}

/** Result of {@link publishBatch}, by index into the input. */
export interface PublishBatchResult {
  published: Array<{ index: number; id: string }>;
  failed: Array<{ index: number; reason: string }>;
}

/** Reason given, in an atomic batch, to the events that were fine but not sent because a neighbour was not. */
export const NOT_SENT_REASON = 'not sent: the atomic batch holds an event that cannot be serialised';

function encodeOrThrow(event: object): string {
  try {
    return encodeEvent(event);
  } catch (err) {
    throw new EventEncodingError(`event cannot be serialised: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/**
 * XADDs one event as JSON in the `event` field and returns the entry id. Throws StreamUnavailableError quickly when
 * Redis is unreachable, times out or refuses writes (a request-profile client never queues), EventEncodingError when
 * the event cannot be serialised.
 */
export async function publish(redis: RedisClient, stream: string, event: object): Promise<string> {
  const json = encodeOrThrow(event);
  try {
    await ensureConnected(redis);
    const id = await redis.xadd(stream, '*', EVENT_FIELD, json);
    if (id === null) throw new StreamError(`XADD to ${stream} returned no id`);
    return id;
  } catch (err) {
    throw toStreamError(err, `XADD to ${stream}`);
  }
}

type Encoded = { index: number; json: string };

/**
 * XADDs many events in one round trip (a pipeline, or MULTI/EXEC when `atomic`). An event that cannot be serialised
 * fails alone (non-atomic) or stops the whole batch before anything is sent (atomic). Throws StreamUnavailableError
 * when Redis is unreachable or refuses every write; an atomic batch throws on any Redis-level failure.
 */
export async function publishBatch(
  redis: RedisClient,
  stream: string,
  events: object[],
  options: PublishBatchOptions = {},
): Promise<PublishBatchResult> {
  const encoded: Encoded[] = [];
  const failed: PublishBatchResult['failed'] = [];
  events.forEach((event, index) => {
    try {
      encoded.push({ index, json: encodeOrThrow(event) });
    } catch (err) {
      failed.push({ index, reason: (err as Error).message });
    }
  });
  if (options.atomic && failed.length > 0) {
    const notSent = encoded.map(({ index }) => ({ index, reason: NOT_SENT_REASON }));
    return { published: [], failed: [...failed, ...notSent].sort((a, b) => a.index - b.index) };
  }
  if (encoded.length === 0) return { published: [], failed };

  const what = `XADD of ${encoded.length} events to ${stream}`;
  let replies: Array<[Error | null, unknown]> | null;
  try {
    await ensureConnected(redis);
    const batch = options.atomic ? redis.multi() : redis.pipeline();
    for (const { json } of encoded) batch.xadd(stream, '*', EVENT_FIELD, json);
    replies = await batch.exec();
  } catch (err) {
    throw toStreamError(err, what);
  }
  if (replies === null) throw new StreamError(`${what}: transaction aborted`);

  const published: PublishBatchResult['published'] = [];
  const errors: Array<{ index: number; err: Error }> = [];
  encoded.forEach(({ index }, i) => {
    const [err, id] = replies[i] ?? [new Error('no reply'), null];
    if (err) errors.push({ index, err });
    else published.push({ index, id: String(id) });
  });
  if (errors.length > 0 && (options.atomic || published.length === 0)) {
    // An atomic batch must not half-succeed silently, and a batch where nothing got in is a Redis failure, not N bad events.
    const first = errors[0]?.err;
    const partial = published.length > 0 ? ` (${published.length} were added nevertheless)` : '';
    if (errors.every(({ err }) => isRedisUnavailableError(err))) {
      throw new StreamUnavailableError(`${what}: Redis unavailable (${first?.message})${partial}`, { cause: first });
    }
    throw new StreamError(`${what} failed: ${first?.message}${partial}`, { cause: first });
  }
  for (const { index, err } of errors) failed.push({ index, reason: err.message });
  failed.sort((a, b) => a.index - b.index);
  return { published, failed };
}
