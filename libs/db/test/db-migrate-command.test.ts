import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { adminDatabaseUrl } from '@sluice/test-support';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, migrations, type Database } from '../src/index.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// Not created here: `npm run db:migrate` must create it.
const name = `sluice_test_${randomBytes(6).toString('hex')}`;
const url = Object.assign(new URL(adminDatabaseUrl()), { pathname: `/${name}` }).toString();
let db: Kysely<Database> | undefined;

afterAll(async () => {
  await db?.destroy();
  const admin = new pg.Client({ connectionString: adminDatabaseUrl(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`);
  } finally {
    await admin.end();
  }
});

describe('npm run db:migrate (kysely-ctl, from the repository root)', () => {
  it('loads kysely.config.ts, creates the database named in DATABASE_URL and applies every migration', async () => {
    // The README's command as is; `--debug` (appended to kysely-ctl's arguments) makes it say which file it loaded.
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', 'db:migrate', '--', '--debug'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: url, NO_COLOR: '1' },
      timeout: 60_000,
    });
    const output = `${stdout}\n${stderr}`;

    // kysely-ctl's loader (c12) tries kysely.config.js before .ts, so a compiled copy left at the root would be run
    // instead of the source, and edits to the .ts would do nothing.
    const loaded = new Set([...output.matchAll(/configFile: '(\/[^']+)'/g)].map((match) => match[1]));
    expect([...loaded], 'the config file kysely-ctl reports loading in its --debug output').toEqual([
      path.join(REPO_ROOT, 'kysely.config.ts'),
    ]);
    expect(output).toContain(`Created database`);

    db = createDb({ url, max: 1 });
    const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    expect(applied.rows.map((row) => row.name).sort()).toEqual(Object.keys(migrations).sort());
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
    expect(tables.rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['events', 'sessions', 'transcripts']),
    );
  });
});
