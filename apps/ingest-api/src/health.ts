import { checkRedisHealth } from '@sluice/redis-stream';
import type { Redis } from 'ioredis';
import type { Db } from './db-types.js';

/** How long each part of the health check may take: well inside the 3 s a load balancer usually allows. */
export const HEALTH_TIMEOUT_MS = 1500;

/** One dependency's state: `reason` is for the log only (it may name hosts and ports), never for the response. */
export interface PartHealth {
  ok: boolean;
  reason?: string;
}

/** What the health check found. */
export interface HealthReport {
  redis: PartHealth;
  postgres: PartHealth;
}

/** Pings Redis and runs `select 1` on Postgres, in parallel and each with a time limit, so the check never hangs. */
export async function checkHealth(redis: Redis, db: Db): Promise<HealthReport> {
  const [redisHealth, postgres] = await Promise.all([checkRedisHealth(redis, HEALTH_TIMEOUT_MS), checkPostgres(db)]);
  return {
    redis: redisHealth.ok ? { ok: true } : { ok: false, reason: redisHealth.error ?? 'unavailable' },
    postgres,
  };
}

async function checkPostgres(db: Db): Promise<PartHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PartHealth>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `select 1 timed out after ${HEALTH_TIMEOUT_MS} ms` }), HEALTH_TIMEOUT_MS);
  });
  const query = db
    .selectNoFrom((eb) => eb.lit(1).as('one'))
    .execute()
    .then(
      (): PartHealth => ({ ok: true }),
      (err: unknown): PartHealth => ({ ok: false, reason: err instanceof Error ? err.message : String(err) }),
    );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
