import { COMPLETED_KEPT, type DeadLetterData } from '@sluice/dead-letter';
import type { Logger } from '@sluice/logger';
import { MetricsTime, Worker } from 'bullmq';
import type { RedisClient } from '@sluice/redis-stream';
import type { DeadLetterJob, DeadLetterResult } from './dead-letter.processor.js';

/** Options for {@link createDeadLetterWorker}. */
export interface DeadLetterWorkerOptions {
  /** DEAD_LETTER_QUEUE. */
  queueName: string;
  /** BULLMQ_PREFIX. */
  prefix: string;
  /** A connection of the worker's own, with `maxRetriesPerRequest: null` (BullMQ requires it); the caller closes it. */
  connection: RedisClient;
  processor: (job: DeadLetterJob) => Promise<DeadLetterResult>;
  logger: Logger;
  /** Jobs processed at once. Dead letters are few; a handful in parallel keeps a backlog moving. @defaultValue 4 */
  concurrency?: number;
  /** @defaultValue true */
  autorun?: boolean;
}

/**
 * The BullMQ worker on the dead-letter queue. Retries, backoff and the failed set are BullMQ's: the jobs carry
 * `attempts`, exponential `backoff` with jitter and `removeOnFail: false` from `deadLetterJobOptions`.
 */
export function createDeadLetterWorker(options: DeadLetterWorkerOptions): Worker<DeadLetterData, DeadLetterResult> {
  const logger = options.logger;
  const worker = new Worker<DeadLetterData, DeadLetterResult>(options.queueName, options.processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 4,
    autorun: options.autorun ?? true,
    // A fallback for jobs added without options (Bull Board's "add job"). removeOnFail stays unset: BullMQ's default
    // keeps failed jobs, which is the point of a dead-letter queue.
    removeOnComplete: { count: COMPLETED_KEPT },
    // BullMQ honours a manual rate limit (queue.rateLimit, how a sink fault pauses the queue) only when a limiter is
    // set; this one is far above any real dead-letter rate, so it never limits anything by itself.
    limiter: { max: 100_000, duration: 1000 },
    // Per-minute completed/failed counts, which queue.exportPrometheusMetrics() reports as totals.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
  });
  // Without a listener an 'error' event (Redis gone, a lost lock) would crash the process; BullMQ reconnects itself.
  worker.on('error', (err) => logger.error({ err }, 'Dead-letter worker error'));
  return worker;
}
