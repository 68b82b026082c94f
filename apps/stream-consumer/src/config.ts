import { commonFields, defaultConsumerName, intField, parseEnv, type Env } from '@sluice/config';
import { z } from 'zod';

const schema = z.object({
  ...commonFields,
  CONSUMER_GROUP: z.string().default('event-processors'),
  CONSUMER_NAME: z.string().default(defaultConsumerName()),
  MAX_DELIVERIES: intField(3, 1),
  CLAIM_MIN_IDLE_MS: intField(60_000, 1),
  READ_COUNT: intField(1000, 1, 10_000),
  BLOCK_MS: intField(5000, 1, 60_000),
  DEAD_LETTER_ATTEMPTS: intField(5, 1),
  METRICS_PORT: intField(undefined, 0, 65535),
});

/** The stream consumer's configuration, parsed once from the environment. */
export type ConsumerConfig = z.infer<typeof schema>;

/** Parses and validates the consumer's environment; throws a one-line ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Readonly<ConsumerConfig> {
  return parseEnv(schema, env);
}
