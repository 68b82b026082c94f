import { sql, type Database, type Kysely } from '@sluice/db';
import type { HealthCheck } from '@sluice/runtime';
import type { Redis } from 'ioredis';

/** What `/healthz` pings. */
export interface HealthDeps {
  /** A client that fails fast when Redis is down (no offline queue), so the check never hangs. */
  redis: Redis;
  db: Kysely<Database>;
}

/** `/healthz`: Redis `PING` and Postgres `select 1`, each reported by name so a 503 says which part is down. */
export function createHealthCheck(deps: HealthDeps): HealthCheck {
  return async () => {
    const [redis, postgres] = await Promise.all([
      deps.redis.ping().then(
        (reply) => reply,
        (err: Error) => `error: ${err.message}`,
      ),
      sql`select 1`.execute(deps.db).then(
        () => 'ok',
        (err: Error) => `error: ${err.message}`,
      ),
    ]);
    return { ok: redis === 'PONG' && postgres === 'ok', redis, postgres };
  };
}
