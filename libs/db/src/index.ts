export * from './database.js';
export { DatabaseUrlError, parseDatabaseUrl, type DatabaseUrlParts } from './database-url.js';
export { createDb, type CreateDbOptions } from './create-db.js';
export { checkPostgresHealth, type PostgresHealth } from './db-health.js';
export { ensureDatabase } from './ensure-database.js';
export { migrateToLatest } from './migrate.js';
export { migrationProvider, migrations } from './migrations/index.js';
export { findEventById, insertMany, type EventInsertRow } from './event.repository.js';
export { copyInsertMany } from './event-copy.repository.js';
export {
  endSessions,
  findSessionById,
  startSessions,
  type SessionEndRow,
  type SessionStartRow,
} from './session.repository.js';
export { findTranscript, saveTranscript } from './transcript.repository.js';
// Re-exported so packages built on this one use the same Kysely without depending on it themselves.
export { sql, type Kysely, type Transaction } from 'kysely';
export {
  archiveDeadLetters,
  archivedJobIds,
  findDeadLetterByEventId,
  InvalidCursorError,
  recordDeadLetterAction,
  searchDeadLetters,
  setDeadLetterState,
  type DeadLetterFilter,
  type DeadLetterPage,
} from './dead-letter.repository.js';
