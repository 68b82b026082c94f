import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/** Result of {@link checkPostgresHealth}. */
export interface PostgresHealth {
  ok: boolean;
  /** Why it is not ok, for the log (it may name hosts and ports); never contains the URL's password. */
  error?: string;
}

/** Runs `select 1` with a time limit. Never throws and never waits longer than `timeoutMs`. */
export async function checkPostgresHealth(db: Kysely<Database>, timeoutMs = 1500): Promise<PostgresHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PostgresHealth>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `select 1 timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  const query = db
    .selectNoFrom((eb) => eb.lit(1).as('one'))
    .execute()
    .then(
      (): PostgresHealth => ({ ok: true }),
      (err: unknown): PostgresHealth => ({ ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
