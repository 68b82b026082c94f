import type { Migration, MigrationProvider } from 'kysely';
import * as createEvents from './0001-create-events.js';
import * as createSessions from './0002-create-sessions.js';
import * as createDeadLetters from './0003-create-dead-letters.js';

/** Every migration, by name, in order. Static imports: nothing depends on scanning a folder at run time. */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-create-events': createEvents,
  '0002-create-sessions': createSessions,
  '0003-create-dead-letters': createDeadLetters,
});

/** The provider kysely-ctl (`kysely.config.ts`) and {@link migrateToLatest} both use. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
