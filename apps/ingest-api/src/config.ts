import { commonFields, intField, listField, parseEnv, type Env } from '@sluice/config';
import { z } from 'zod';

const schema = z.object({
  ...commonFields,
  PORT: intField(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  INGEST_API_KEYS: listField(),
  ADMIN_USER: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),
});

/** The ingest API's configuration, parsed once from the environment. */
export type ApiConfig = z.infer<typeof schema>;

/** Parses and validates the API's environment; throws a one-line ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Readonly<ApiConfig> {
  return parseEnv(schema, env);
}
