import { Migrator, type Kysely, type MigrationResult } from 'kysely';
import { migrationProvider } from './migrations/index.js';

/** Applies every pending migration; throws the first failure. Running it again is a no-op. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the schema the types describe exists, as Kysely's Migrator expects.
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('Migration failed', { cause: error });
  return results ?? [];
}
