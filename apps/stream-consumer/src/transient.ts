import { classify, TransientError } from '@sluice/process-event';
import { isRedisUnavailableError } from '@sluice/redis-stream';

/**
 * True for an outage: Postgres or Redis unreachable, or a transient SQLSTATE. Recognised by class, by name (errors
 * that crossed a package or a serialisation boundary) and by process-event's own classifier.
 */
export function isTransientFailure(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if ((err as { name?: unknown } | null)?.name === 'TransientError') return true;
  return classify(err) === 'transient' || isRedisUnavailableError(err);
}
