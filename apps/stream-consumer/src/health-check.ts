import type { Database } from '@sluice/db';
import type { HealthCheck } from '@sluice/runtime';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { withTimeout } from './wait.js';

/** What `/healthz` checks. */
export interface HealthDeps {
  redis: Redis;
  db: Kysely<Database>;
  /** True while the consumer loop runs and has shown signs of life recently. */
  loopAlive: () => boolean;
  /** @defaultValue 2000 */
  timeoutMs?: number;
}

/** `/healthz`: Redis `PING`, Postgres `select 1` and the loop's heartbeat, each named so a 503 says which part is down. */
export function createHealthCheck(deps: HealthDeps): HealthCheck {
  const timeoutMs = deps.timeoutMs ?? 2000;
  const outcome = (check: Promise<string>) => check.catch((err: Error) => `error: ${err.message}`);
  return async () => {
    const [redis, postgres] = await Promise.all([
      // The worker client would wait out an outage; the check must answer now.
      outcome(withTimeout(deps.redis.ping(), timeoutMs, 'PING')),
      outcome(
        withTimeout(deps.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute(), timeoutMs, 'select 1').then(() => 'ok'),
      ),
    ]);
    const loop = deps.loopAlive() ? 'running' : 'stalled';
    return { ok: redis === 'PONG' && postgres === 'ok' && loop === 'running', redis, postgres, loop };
  };
}
