import { classify } from '@sluice/process-event';
import { unavailable } from '../api-error.js';

/**
 * Rethrows a look-up's database error: a Postgres outage (the failure taxonomy's `sink`) as a 503 the client
 * can retry, anything else as it is, which the error middleware answers with a 500.
 */
export function translateDbError(err: unknown): never {
  if (classify(err) === 'sink') throw unavailable('Postgres', err);
  throw err;
}
