/** Options for {@link backoffDelayMs}. */
export interface BackoffOptions {
  /** @defaultValue 100 */
  initialMs?: number;
  /** @defaultValue 5000 */
  maxMs?: number;
}

/**
 * Delay before retry `attempt` (1-based): doubling from `initialMs` up to `maxMs`, with "equal jitter" (half fixed,
 * half random) so replicas that lost the same server do not all come back in lockstep.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 5000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
