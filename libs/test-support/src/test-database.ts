import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database made for one test file. */
export interface TestDatabase {
  /** Its name, `sluice_test_<random>`. */
  name: string;
  /** A URL pointing at it. */
  url: string;
  /** Drops it, closing any connection still open. */
  drop(): Promise<void>;
}

/** The server tests create their databases on; `TEST_DATABASE_URL` overrides it. */
export function adminDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
}

async function withAdminClient<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database with a unique name; the caller migrates it and calls `drop()` after the tests. */
export async function createTestDatabase(adminUrl = adminDatabaseUrl()): Promise<TestDatabase> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database ${client.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdminClient(adminUrl, (client) =>
        client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`),
      ).then(() => undefined),
  };
}
