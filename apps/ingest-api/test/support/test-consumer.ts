import { createHandlerRegistry, processEntries } from '@sluice/process-event';
import { ack, ensureGroup, read } from '@sluice/redis-stream';
import { Redis } from 'ioredis';
import type { Db } from '../../src/db-types.js';

/** A running {@link startTestConsumer}. */
export interface TestConsumer {
  stop(): Promise<void>;
}

/**
 * The stream consumer's processing path in miniature: read a batch with the consumer group, processEntries (the same
 * function apps/stream-consumer calls), ack. No retries and no dead letters: a test that needs those
 * belongs to the consumer. Fails the test loudly (by rejecting `stop`) if anything goes wrong.
 */
export async function startTestConsumer(options: { redisUrl: string; stream: string; db: Db }): Promise<TestConsumer> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const group = 'test-consumers';
  await ensureGroup(redis, options.stream, group);
  const handlers = createHandlerRegistry();
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const entries = await read(redis, {
        stream: options.stream,
        group,
        consumer: 'test-1',
        count: 100,
        blockMs: 100,
      });
      if (entries.length === 0) continue;
      const outcomes = await processEntries({ db: options.db, handlers }, entries);
      const failed = outcomes.find((outcome) => outcome.status !== 'processed' && outcome.status !== 'duplicate');
      if (failed) throw new Error(`test consumer: an event failed: ${JSON.stringify(failed)}`);
      await ack(
        redis,
        options.stream,
        group,
        entries.map((entry) => entry.id),
      );
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      try {
        await loop;
      } finally {
        redis.disconnect();
      }
    },
  };
}
