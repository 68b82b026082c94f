/** The bits of a logger shutdown needs (pino satisfies it). */
export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options for {@link handleShutdown}. */
export interface ShutdownOptions {
  logger: ShutdownLogger;
  /** Closes everything the process opened; should finish the work in hand first. */
  close: (signal: string) => Promise<void>;
  /** After this long the process exits anyway (code 1). @defaultValue 10000 */
  timeoutMs?: number;
  /** Signals to handle. @defaultValue ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /** How the process ends; tests replace it. @defaultValue process.exit */
  exit?: (code: number) => void;
}

/**
 * Graceful shutdown first, forced on a second signal or after the deadline (graphile-worker's rule).
 * Returns the function that starts the shutdown, for callers that stop for reasons of their own.
 */
export function handleShutdown(options: ShutdownOptions): (reason: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = options.timeoutMs ?? 10_000;
  let shutdown: Promise<void> | undefined;

  const begin = (reason: string): Promise<void> => {
    if (shutdown) {
      options.logger.info({ reason }, 'Second signal: exiting at once');
      exit(1);
      return shutdown;
    }
    options.logger.info({ reason, timeoutMs }, 'Shutting down');
    const timer = setTimeout(() => {
      options.logger.error({ timeoutMs }, 'Shutdown deadline passed: exiting');
      exit(1);
    }, timeoutMs);
    timer.unref();
    shutdown = options.close(reason).then(
      () => {
        clearTimeout(timer);
        options.logger.info({}, 'Stopped cleanly');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(timer);
        options.logger.error({ err }, 'Shutdown failed');
        exit(1);
      },
    );
    return shutdown;
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => void begin(signal));
  return begin;
}
