import { checkPostgresHealth } from '@sluice/db';
import { checkRedisHealth } from '@sluice/redis-stream';
import type { RedisClient } from '@sluice/redis-stream';
import type { Db } from './db-types.js';

/** How long each part of the health check may take: well inside the 3 s a load balancer usually allows. */
const HEALTH_TIMEOUT_MS = 1500;

/** One dependency's state: `reason` is for the log only (it may name hosts and ports), never for the response. */
interface PartHealth {
  ok: boolean;
  reason?: string;
}

/** What the health check found. */
export interface HealthReport {
  redis: PartHealth;
  postgres: PartHealth;
}

/** Pings Redis and runs `select 1` on Postgres, in parallel and each with a time limit, so the check never hangs. */
export async function checkHealth(redis: RedisClient, db: Db): Promise<HealthReport> {
  const [redisHealth, postgres] = await Promise.all([
    checkRedisHealth(redis, HEALTH_TIMEOUT_MS),
    checkPostgresHealth(db, HEALTH_TIMEOUT_MS),
  ]);
  return {
    redis: redisHealth.ok ? { ok: true } : { ok: false, reason: redisHealth.error ?? 'unavailable' },
    postgres: postgres.ok ? { ok: true } : { ok: false, reason: postgres.error ?? 'unavailable' },
  };
}
