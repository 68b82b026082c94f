import { checkClusterSettings, commonFields, defaultConsumerName, intField, parseEnv, type Env } from '@sluice/config';
import { z } from 'zod';

const schema = z
  .object({
    ...commonFields,
    CONSUMER_GROUP: z.string().default('event-processors'),
    CONSUMER_NAME: z.string().default(defaultConsumerName()),
    MAX_DELIVERIES: intField(3, 1),
    CLAIM_MIN_IDLE_MS: intField(60_000, 1),
    READ_COUNT: intField(1000, 1, 10_000),
    BLOCK_MS: intField(5000, 1, 60_000),
    DEAD_LETTER_ATTEMPTS: intField(5, 1),
    METRICS_PORT: intField(undefined, 0, 65535),
    // Not in the contract's table: tuning knobs of this app, documented in the README.
    CLAIM_INTERVAL_MS: intField(5000, 10),
    RETRY_DELAY_MS: intField(1000, 0),
    TRIM_INTERVAL_MS: intField(30_000, 100),
    STATS_INTERVAL_MS: intField(60_000, 100),
    BATCH_CONCURRENCY: intField(2, 1, 8),
    DB_POOL_MAX: intField(4, 1, 100),
    // A statement that waits longer (a lock held on events, a hung server) is cancelled and counts as a sink fault.
    DB_STATEMENT_TIMEOUT_MS: intField(30_000, 100),
    // A consumer of the group idle this long with nothing pending is gone (a replica restarted under a new name).
    GONE_CONSUMER_IDLE_MS: intField(3_600_000, 1000),
  })
  .superRefine(checkClusterSettings);

/** The stream consumer's configuration, parsed once from the environment. */
export type ConsumerConfig = z.infer<typeof schema>;

/** Parses and validates the consumer's environment; throws a one-line ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Readonly<ConsumerConfig> {
  return parseEnv(schema, env);
}
