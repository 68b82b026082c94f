import { createDb, migrationProvider } from '@sluice/db';
import { defineConfig } from 'kysely-ctl';
// `npm run db:migrate` runs libs/db's create-database first, which validates DATABASE_URL with a one-line error.
export default defineConfig({
    kysely: createDb({ url: process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/sluice', max: 1 }),
    migrations: { provider: migrationProvider },
});
//# sourceMappingURL=kysely.config.js.map