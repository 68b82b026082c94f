import { checkClusterSettings, commonFields, intField, listField, parseEnv, type Env } from '@sluice/config';
import { z } from 'zod';

const KIB = 1024;

/** A byte or count limit: {@link intField} with its default visible to the type (the value is never undefined). */
function limitField(fallback: number, min: number, max: number) {
  return z.pipe(intField(fallback, min, max), z.number());
}

const schema = z
  .object({
    ...commonFields,
    PORT: intField(3000, 0, 65535),
    HOST: z.string().default('0.0.0.0'),
    // > 0: a 202 only once WAIT confirms that many replicas hold the entry (within REDIS_WAIT_TIMEOUT_MS), else 503.
    REDIS_WAIT_REPLICAS: intField(0, 0, 16),
    REDIS_WAIT_TIMEOUT_MS: intField(1000, 1, 60_000),
    // The consumers' group: the event status look-up reads its pending list.
    CONSUMER_GROUP: z.string().default('event-processors'),
    INGEST_API_KEYS: listField(),
    ADMIN_USER: z.string().optional(),
    ADMIN_PASSWORD: z.string().optional(),
    // Limits are bytes of JSON as received (UTF-8); see the README's "HTTP API" section.
    MAX_EVENT_BYTES: limitField(32 * KIB, 1, 64 * 1024 * KIB),
    MAX_BATCH_EVENTS: limitField(500, 1, 100_000),
    MAX_BATCH_BYTES: limitField(512 * KIB, 1, 256 * 1024 * KIB),
    MAX_TRANSCRIPT_BYTES: limitField(1024 * KIB, 1, 256 * 1024 * KIB),
    // Unset: no limit, and no limiter on the ingest path at all.
    RATE_LIMIT_EVENTS_PER_SECOND: intField(undefined, 1, 1_000_000),
  })
  .superRefine((config, ctx) => {
    checkClusterSettings(config, ctx);
    // Half a credential pair would leave the board silently unmounted; say so at start-up instead.
    if ((config.ADMIN_USER === undefined) !== (config.ADMIN_PASSWORD === undefined)) {
      const missing = config.ADMIN_USER === undefined ? 'ADMIN_USER' : 'ADMIN_PASSWORD';
      const other = missing === 'ADMIN_USER' ? 'ADMIN_PASSWORD' : 'ADMIN_USER';
      ctx.addIssue({ code: 'custom', path: [missing], message: `must be set together with ${other}` });
    }
    if (config.ADMIN_USER?.includes(':')) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_USER'],
        message: 'must not contain ":" (HTTP Basic auth splits on it)',
      });
    }
  });

/** The ingest API's configuration, parsed once from the environment. */
export type ApiConfig = z.infer<typeof schema>;

/** Parses and validates the API's environment; throws a one-line ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Readonly<ApiConfig> {
  return parseEnv(schema, env);
}
