import { ConfigError } from './config-error.js';

/** Runs `load`; on a {@link ConfigError} prints its one-line message to stderr and exits 1 (start-up must fail fast and clearly). */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
