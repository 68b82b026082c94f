import { checkPostgresHealth, type Database, type Kysely } from '@sluice/db';
import { checkRedisHealth, type RedisClient } from '@sluice/redis-stream';
import type { HealthCheck } from '@sluice/runtime';

/** What `/readyz` checks. */
export interface HealthDeps {
  /** A client that fails fast when Redis is down (no offline queue), so the check never hangs. */
  redis: RedisClient;
  db: Kysely<Database>;
}

/** `/readyz`: Redis `PING` (every primary of a cluster) and Postgres `select 1`, each named so a 503 says which is down. */
export function createHealthCheck(deps: HealthDeps): HealthCheck {
  return async () => {
    const [redis, postgres] = await Promise.all([
      checkRedisHealth(deps.redis, 1500),
      checkPostgresHealth(deps.db, 1500),
    ]);
    return {
      ok: redis.ok && postgres.ok,
      redis: redis.ok ? 'PONG' : `error: ${redis.error ?? 'no answer'}`,
      postgres: postgres.ok ? 'ok' : `error: ${postgres.error ?? 'no answer'}`,
    };
  };
}
