import { createDb, migrateToLatest } from '@sluice/db';
import {
  type CapturedLogs,
  captureLogs,
  createTestDatabase,
  type TestDatabase,
  testRedisUrl,
  uniqueKey,
} from '@sluice/test-support';
import type { Queue } from 'bullmq';
import { indexKey, type RedisClient } from '@sluice/redis-stream';
import type Koa from 'koa';
import { Registry } from 'prom-client';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/create-app.js';
import { createRequestRedis } from '../../src/request-redis.js';
import type { AppState } from '../../src/app-state.js';
import type { Db } from '../../src/db-types.js';

/** A migrated database of the test file's own. */
export interface TestDb {
  testDb: TestDatabase;
  db: Db;
  close(): Promise<void>;
}

/** Creates and migrates a database for one test file. */
export async function createMigratedDb(): Promise<TestDb> {
  const testDb = await createTestDatabase();
  const db = createDb({ url: testDb.url, max: 4 });
  await migrateToLatest(db);
  return {
    testDb,
    db,
    close: async () => {
      await db.destroy();
      await testDb.drop();
    },
  };
}

/** Options for {@link createTestApp}. */
export interface TestAppOptions {
  db: Db;
  /** Extra environment for loadConfig (limits, keys, admin credentials). */
  env?: Record<string, string>;
  /** @defaultValue testRedisUrl() */
  redisUrl?: string;
  deadLetterQueue?: Queue;
}

/** An app over real Redis and Postgres, on a unique stream, with its logs captured. */
export interface TestApp {
  app: Koa<AppState>;
  /** A supertest client over `app.callback()` (no port). */
  http: ReturnType<typeof request>;
  stream: string;
  /** The app's own request-profile client. */
  redis: RedisClient;
  registry: Registry;
  logs: CapturedLogs;
  /** XLEN of the app's stream (0 when it does not exist). */
  streamLength(): Promise<number>;
  /** The events in the stream, decoded from their `event` field, oldest first. */
  streamEvents(): Promise<Array<Record<string, unknown>>>;
  /** Deletes the stream and closes the app's client. */
  close(): Promise<void>;
}

/** Builds the app the way main.ts does, but with a captured logger and a unique stream key. */
export async function createTestApp(options: TestAppOptions): Promise<TestApp> {
  const stream = uniqueKey('events');
  const config = loadConfig({ STREAM_KEY: stream, ...options.env });
  const logs = captureLogs('ingest-api-test');
  const redis = createRequestRedis({ url: options.redisUrl ?? testRedisUrl(), logger: logs.logger });
  await redis.connect();
  const registry = new Registry();
  const app = createApp({
    config,
    logger: logs.logger,
    redis,
    db: options.db,
    registry,
    ...(options.deadLetterQueue ? { deadLetterQueue: options.deadLetterQueue } : {}),
  });
  const http = request(app.callback());
  return {
    app,
    http,
    stream,
    redis,
    registry,
    logs,
    streamLength: () => redis.xlen(stream),
    streamEvents: async () => {
      const entries = await redis.xrange(stream, '-', '+');
      return entries.map(([, fields]) => JSON.parse(fields[1] ?? 'null') as Record<string, unknown>);
    },
    close: async () => {
      await redis.del(stream, indexKey(stream)).catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** Asserts the contract's error body shape and returns it. */
export function expectErrorBody(
  body: unknown,
  requestId?: string,
): { error: { code: string; message: string; details?: unknown[] }; request_id: string } {
  const shaped = body as { error?: { code?: unknown; message?: unknown; details?: unknown }; request_id?: unknown };
  if (
    typeof shaped?.error?.code !== 'string' ||
    typeof shaped.error.message !== 'string' ||
    typeof shaped.request_id !== 'string'
  ) {
    throw new Error(`not the contract's error body: ${JSON.stringify(body)}`);
  }
  if (shaped.error.details !== undefined && !Array.isArray(shaped.error.details))
    throw new Error('details is not an array');
  if (requestId !== undefined && shaped.request_id !== requestId)
    throw new Error(`request_id ${String(shaped.request_id)} is not ${requestId}`);
  const keys = Object.keys(shaped.error).filter((key) => !['code', 'message', 'details'].includes(key));
  if (keys.length > 0) throw new Error(`unexpected error fields: ${keys.join(', ')}`);
  return body as { error: { code: string; message: string; details?: unknown[] }; request_id: string };
}
