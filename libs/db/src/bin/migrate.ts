#!/usr/bin/env node
// The migrate step for deploy images, which ship without dev tooling (kysely-ctl): creates the database when it
// is missing, then applies the same migrations `npm run db:migrate` applies.
import { createDb } from '../create-db.js';
import { parseDatabaseUrl } from '../database-url.js';
import { ensureDatabase } from '../ensure-database.js';
import { migrateToLatest } from '../migrate.js';

const url = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/sluice';

try {
  const { display } = parseDatabaseUrl(url);
  if (await ensureDatabase(url)) process.stdout.write(`Created database ${display}\n`);
  const db = createDb({ url, max: 1 });
  try {
    const results = await migrateToLatest(db);
    process.stdout.write(`Applied ${results.length} migration(s) to ${display}\n`);
  } finally {
    await db.destroy();
  }
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`migrate: ${message.split('\n')[0]}\n`);
  process.exit(1);
}
