import { z } from 'zod';
import { ConfigError } from './config-error.js';

/** Where configuration comes from; `process.env` in production, a plain object in tests. */
export type Env = Record<string, string | undefined>;

/**
 * Parses `env` with `schema` once and returns a frozen copy.
 * Empty strings count as unset, so `FOO=` falls back to the default like an absent `FOO`.
 * The first problem becomes a one-line {@link ConfigError} naming the variable; values are not echoed,
 * because a variable may hold a secret.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): Readonly<z.infer<S>> {
  const cleaned: Env = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    cleaned[key] = value === undefined || value.trim() === '' ? undefined : value.trim();
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, `Invalid configuration: ${variable} ${issue?.message ?? 'is invalid'}`);
  }
  return Object.freeze(result.data);
}
