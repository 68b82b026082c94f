// The ceilings: the same rows written straight to Postgres, with no Redis and nothing else in the way. Loads the rows
// from the bench's template stream, says `ready`, writes them one way (BENCH_WAY), says `done <rows>`, then waits for
// SIGTERM so the bench can read its CPU and memory.
//   values      a raw sequential multi-row INSERT ... VALUES (8 parameters a row) ... ON CONFLICT DO NOTHING
//   insert-many the consumer's own statement (@sluice/db insertMany), batch after batch
//   copy-many   @sluice/db copyInsertMany (COPY into a staging table, then one INSERT ... SELECT), batch after batch
//   copy        all rows in one COPY into a staging table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyInsertMany, createDb, insertMany } from '@sluice/db';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { toRow } from '../events.js';

const { BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_STREAM, BENCH_WAY: way } = process.env;
const batchSize = Number(process.env.BENCH_BATCH ?? 1000);
const COLUMNS = 'event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at';

async function loadRows() {
  const redis = new Redis(BENCH_REDIS_URL);
  const rows = [];
  for (let start = '-'; ;) {
    const entries = await redis.xrange(BENCH_STREAM, start, '+', 'COUNT', 10_000);
    for (const [id, fields] of entries) rows.push(toRow(JSON.parse(fields[1]), id));
    if (entries.length < 10_000) break;
    start = `(${entries.at(-1)[0]}`;
  }
  redis.disconnect();
  return rows;
}

function insertValues(client, rows) {
  const params = [];
  const tuples = rows.map((row, i) => {
    params.push(row.event_id, row.event_type, row.source, row.session_id, row.occurred_at);
    params.push(JSON.stringify(row.payload), row.stream_id, row.received_at);
    return `(${Array.from({ length: 8 }, (_, j) => `$${i * 8 + j + 1}`).join(', ')})`;
  });
  return client.query(
    `insert into events (${COLUMNS}) values ${tuples.join(', ')} on conflict (event_id) do nothing`,
    params,
  );
}

/** COPY's text format: tab-separated, `\N` for null, backslash escapes. */
function copyLine(row) {
  const values = [row.event_id, row.event_type, row.source, row.session_id, row.occurred_at];
  values.push(JSON.stringify(row.payload), row.stream_id, row.received_at);
  return `${values.map((v) => (v == null ? '\\N' : String(v).replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]))).join('\t')}\n`;
}
const ESCAPES = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

async function copyAll(client, rows) {
  await client.query('begin');
  await client.query('create temp table staging (like events including defaults) on commit drop');
  const lines = (function* () {
    for (let i = 0; i < rows.length; i += batchSize)
      yield rows
        .slice(i, i + batchSize)
        .map(copyLine)
        .join('');
  })();
  await pipeline(Readable.from(lines), client.query(copyFrom(`copy staging (${COLUMNS}) from stdin`)));
  await client.query(
    `insert into events (${COLUMNS}) select ${COLUMNS} from staging on conflict (event_id) do nothing`,
  );
  await client.query('commit');
}

const rows = await loadRows();
const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
await client.connect();
const db = createDb({ url: BENCH_DATABASE_URL, max: 1 });
const batches = [];
for (let i = 0; i < rows.length; i += batchSize) batches.push(rows.slice(i, i + batchSize));
process.once('SIGTERM', () => {
  void Promise.all([client.end(), db.destroy()]);
});

console.log('ready');
if (way === 'copy') await copyAll(client, rows);
else
  for (const batch of batches) {
    if (way === 'values') await insertValues(client, batch);
    else if (way === 'insert-many') await insertMany(db, batch);
    else if (way === 'copy-many') await copyInsertMany(client, batch);
    else throw new Error(`unknown BENCH_WAY ${way}`);
  }
console.log(`done ${rows.length}`);
