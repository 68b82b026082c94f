/** The logging this package needs; a pino logger satisfies it (`@sluice/logger` is deliberately not a dependency). */
export interface StreamLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
