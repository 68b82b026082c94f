import { randomUUID } from 'node:crypto';
import { createDb, migrateToLatest, type Database } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createHandlerRegistry, type HandlerRegistry } from '@sluice/process-event';
import { createRedisClient } from '@sluice/redis-stream';
import { type CapturedLogs, captureLogs, uniqueKey } from '@sluice/test-support';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import { Consumer, type ConsumerOptions } from '../src/consumer.js';
import { ConsumerMetrics } from '../src/metrics.js';

/** A stream event as the API writes it into the `event` field. */
export function streamEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    event_id: randomUUID(),
    event_type: 'test.thing',
    source: 'stream-consumer-test',
    timestamp: now,
    received_at: now,
    payload: { n: 1 },
    ...overrides,
  };
}

/** XADDs events (or raw field lists) in pipelines of 1000; returns the entry ids in order. */
export async function publish(
  redis: Redis,
  stream: string,
  items: Array<Record<string, unknown> | string[]>,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < items.length; start += 1000) {
    const pipeline = redis.pipeline();
    for (const item of items.slice(start, start + 1000)) {
      if (Array.isArray(item)) pipeline.xadd(stream, '*', ...item);
      else pipeline.xadd(stream, '*', 'event', JSON.stringify(item));
    }
    for (const [err, id] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      ids.push(String(id));
    }
  }
  return ids;
}

/** A migrated database on `url`, for the consumer and for assertions. */
export async function migratedDb(url: string): Promise<Kysely<Database>> {
  const db = createDb({ url, max: 4 });
  await migrateToLatest(db);
  return db;
}

/** Rows in `events`, all or from one `source` (tests sharing a database give their events a source of their own). */
export async function eventRows(db: Kysely<Database>, source?: string): Promise<number> {
  const { rows } =
    source === undefined
      ? await sql<{ n: string }>`select count(*) as n from events`.execute(db)
      : await sql<{ n: string }>`select count(*) as n from events where source = ${source}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** The group's pending count (0 when the group or stream is gone). */
export async function pendingCount(redis: Redis, stream: string, group: string): Promise<number> {
  try {
    const [count] = (await redis.xpending(stream, group)) as [number];
    return Number(count);
  } catch {
    return 0;
  }
}

/** Names a test's stream, group and queue uniquely. */
export function uniqueNames(label: string): { stream: string; group: string; queueName: string } {
  return {
    stream: uniqueKey(`${label}-stream`),
    group: uniqueKey(`${label}-group`),
    queueName: uniqueKey(`${label}-dlq`),
  };
}

/** Settings that keep tests quick: short blocks, frequent claims, quick retries. */
export function testOptions(
  names: { stream: string; group: string },
  overrides: Partial<ConsumerOptions> = {},
): ConsumerOptions {
  return {
    stream: names.stream,
    group: names.group,
    consumer: 'consumer-1',
    readCount: 100,
    blockMs: 200,
    maxDeliveries: 3,
    batchConcurrency: 2,
    claimMinIdleMs: 60_000,
    claimIntervalMs: 200,
    retryDelayMs: 50,
    trimIntervalMs: 60_000,
    statsIntervalMs: 60_000,
    goneConsumerIdleMs: 3_600_000,
    deadLetterAttempts: 1,
    closeTimeoutMs: 2000,
    ...overrides,
  };
}

/** An in-process consumer with clients of its own; `close()` stops it and closes them (not the database). */
export interface TestConsumer {
  consumer: Consumer;
  stats: ConsumerMetrics;
  logs: CapturedLogs;
  redis: Redis;
  close(): Promise<void>;
}

/** Starts a consumer against `redisUrl` and `db`, writing dead letters to `queueName`. */
export async function startConsumer(options: {
  redisUrl: string;
  db: Kysely<Database>;
  queueName: string;
  consumerOptions: ConsumerOptions;
  handlers?: HandlerRegistry;
}): Promise<TestConsumer> {
  const logs = captureLogs('stream-consumer', 'debug');
  const redis = createRedisClient({ url: options.redisUrl, profile: 'worker', name: 'test-commands' });
  const queueConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  queueConnection.on('error', () => undefined);
  const queue = new Queue<DeadLetterData>(options.queueName, { connection: queueConnection, prefix: 'bull' });
  queue.on('error', () => undefined);
  const stats = new ConsumerMetrics();
  const consumer = new Consumer({
    redis,
    reader: redis.duplicate(),
    queue,
    db: options.db,
    handlers: options.handlers ?? createHandlerRegistry(),
    logger: logs.logger,
    metrics: stats,
    options: options.consumerOptions,
  });
  await consumer.start();
  let closed: Promise<void> | undefined;
  return {
    consumer,
    stats,
    logs,
    redis,
    close: () =>
      (closed ??= (async () => {
        await consumer.close();
        // Queue keys (BullMQ writes a meta key as soon as it connects) must not outlive the test.
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close().catch(() => undefined);
        redis.disconnect();
        queueConnection.disconnect();
      })()),
  };
}

/** The dead-letter queue as a test reads it; `cleanup()` obliterates and closes it. */
export function openQueue(
  redisUrl: string,
  queueName: string,
): { queue: Queue<DeadLetterData>; cleanup: () => Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = new Queue<DeadLetterData>(queueName, { connection, prefix: 'bull' });
  return {
    queue,
    cleanup: async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}

/** All dead-letter jobs in the queue, whatever their state. */
export async function deadLetterJobs(queue: Queue<DeadLetterData>) {
  return queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children']);
}
