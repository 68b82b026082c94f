import { checkClusterSettings, commonFields, intField, parseEnv, type Env } from '@sluice/config';
import { z } from 'zod';

const schema = z
  .object({
    ...commonFields,
    DEAD_LETTER_ATTEMPTS: intField(5, 1),
    METRICS_PORT: intField(undefined, 0, 65535),
    // How often dead letters that reached the queue but not the archive (Postgres was down) are archived.
    ARCHIVE_RECONCILE_MS: intField(60_000, 100),
  })
  .superRefine(checkClusterSettings);

/** The dead-letter worker's configuration, parsed once from the environment. */
export type WorkerConfig = z.infer<typeof schema>;

/** Parses and validates the worker's environment; throws a one-line ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Readonly<WorkerConfig> {
  return parseEnv(schema, env);
}
