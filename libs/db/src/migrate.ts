import { Migrator, type Kysely, type MigrationResult } from 'kysely';
import { migrationProvider } from './migrations/index.js';

/** Applies every pending migration; throws the first failure. Running it again is a no-op. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return results ?? [];
}
