import type { Database, Kysely } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createHandlerRegistry, PermanentError } from '@sluice/process-event';
import { Consumer } from '@sluice/stream-consumer/consumer';
import { ConsumerMetrics } from '@sluice/stream-consumer/metrics';
import { captureLogs } from '@sluice/test-support';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** How the `test.flaky` handler behaves: a code fault (retried), a data fault (dead-lettered), or fine. */
export type FlakyMode = 'code' | 'data' | 'ok';

/**
 * The stream consumer in-process (the built app has only the built-in handlers), with a `test.flaky` handler that
 * fails as `mode()` says. Its two Redis connections are its own and close with it.
 */
export async function startFlakyConsumer(options: {
  redisUrl: string;
  db: Kysely<Database>;
  queue: Queue<DeadLetterData>;
  stream: string;
  group: string;
  mode: () => FlakyMode;
}): Promise<{ consumer: Consumer; close(): Promise<void> }> {
  const handlers = createHandlerRegistry().register('test.flaky', async () => {
    if (options.mode() === 'code') throw new TypeError('the flaky handler broke');
    if (options.mode() === 'data') throw new PermanentError('the flaky handler refuses this event');
  });
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const consumer = new Consumer({
    redis,
    reader: redis.duplicate(),
    queue: options.queue,
    db: options.db,
    handlers,
    logger: captureLogs('e2e-consumer').logger,
    metrics: new ConsumerMetrics(),
    options: {
      stream: options.stream,
      group: options.group,
      consumer: 'e2e-consumer',
      readCount: 10,
      blockMs: 100,
      batchConcurrency: 1,
      maxDeliveries: 5,
      retryDelayMs: 1500,
      claimMinIdleMs: 60_000,
      claimIntervalMs: 60_000,
      trimIntervalMs: 60_000,
      statsIntervalMs: 60_000,
      goneConsumerIdleMs: 3_600_000,
      deadLetterAttempts: 3,
      closeTimeoutMs: 2000,
    },
  });
  await consumer.start();
  return {
    consumer,
    close: async () => {
      await consumer.close();
      redis.disconnect();
    },
  };
}
