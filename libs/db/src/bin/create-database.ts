#!/usr/bin/env node
// First half of `npm run db:migrate`: make sure the database exists, so kysely-ctl can then migrate it.
import { parseDatabaseUrl } from '../database-url.js';
import { ensureDatabase } from '../ensure-database.js';

const url = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/sluice';

try {
  const { display } = parseDatabaseUrl(url);
  const created = await ensureDatabase(url);
  process.stdout.write(created ? `Created database ${display}\n` : `Database ${display} exists\n`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`db:migrate: ${message.split('\n')[0]}\n`);
  process.exit(1);
}
