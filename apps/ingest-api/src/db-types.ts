import type { createDb } from '@sluice/db';

/** The Kysely instance `@sluice/db` builds; named here so the app needs no direct dependency on kysely. */
export type Db = ReturnType<typeof createDb>;
