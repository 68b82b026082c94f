/** The bits of a logger this package uses; a pino logger satisfies it, and nothing here depends on pino. */
export interface ProcessLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
