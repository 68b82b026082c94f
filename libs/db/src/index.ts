export * from './database.js';
export { DatabaseUrlError, parseDatabaseUrl, type DatabaseUrlParts } from './database-url.js';
export { createDb, type CreateDbOptions } from './create-db.js';
export { ensureDatabase } from './ensure-database.js';
export { migrateToLatest } from './migrate.js';
export { migrationProvider, migrations } from './migrations/index.js';
