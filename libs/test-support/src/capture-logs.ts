import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@sluice/logger';

/** A logger whose lines are kept in memory, for tests that assert on what was logged (and what never was). */
export interface CapturedLogs {
  logger: Logger;
  /** Every line written so far, raw. */
  lines: string[];
  /** Every line parsed as JSON. */
  entries(): Array<Record<string, unknown>>;
  /** All lines joined, for "never contains" checks. */
  text(): string;
}

/** Builds a {@link CapturedLogs} at the given level (default `debug`, so nothing is filtered out of a check). */
export function captureLogs(name = 'test', level = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
      callback();
    },
  });
  const logger = createLogger({ name, level, destination });
  return {
    logger,
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}
