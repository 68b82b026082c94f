import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createTestDatabase, type TestDatabase } from '@sluice/test-support';
import { createDb, migrateToLatest, type Database, type Kysely } from '@sluice/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlerRegistry, decodeEntry, processEntries, type RawEntry } from '../src/index.js';

// A sanity check of the hot path, not a benchmark and not a timing assertion: it prints what a batch of 1,000 costs
// so a regression (one insert per event, a schema built per event) is visible in the test output.

const BATCH = 1000;
const ROUNDS = 15;

let database: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, max: 2 });
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** A time-ordered (v7-style) id, like the ones the API assigns. */
function uuidV7(): string {
  const hex = Date.now().toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Stream entries' `event` fields, as JSON text: what the consumer reads. */
function rawEvents(count: number, round: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      event_id: uuidV7(),
      event_type: i % 10 === 0 ? 'tool.call' : 'message.sent',
      source: 'bench-cli',
      session_id: `sess-${round}-${i % 50}`,
      timestamp: new Date().toISOString(),
      received_at: new Date().toISOString(),
      payload: {
        seq: i,
        text: 'hello world, this is a typical message body',
        model: 'x-1',
        tokens: { in: 120, out: 340 },
        tags: ['a', 'b'],
      },
    }),
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

describe('throughput sanity', () => {
  it(`decodes and stores batches of ${BATCH}`, async () => {
    const handlers = createHandlerRegistry();
    const decodeMs: number[] = [];
    const batchMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const entries: RawEntry[] = rawEvents(BATCH, round).map((event, i) => ({
        id: `${round}-${i}`,
        fields: { event },
      }));
      let started = performance.now();
      for (const entry of entries) decodeEntry(entry.fields);
      decodeMs.push(performance.now() - started);
      started = performance.now();
      const outcomes = await processEntries({ db, handlers }, entries);
      batchMs.push(performance.now() - started);
      expect(outcomes.every((o) => o.status === 'processed')).toBe(true);
    }
    // The first rounds warm up the JIT and the pool.
    const steadyBatch = median(batchMs.slice(3));
    const steadyDecode = median(decodeMs.slice(3));
    console.info(
      `processEntries(${BATCH}), decoding included: median ${steadyBatch.toFixed(1)} ms (${Math.round((BATCH / steadyBatch) * 1000)} events/s); ` +
        `decodeEntry x${BATCH}: median ${steadyDecode.toFixed(1)} ms`,
    );
  });
});
