import os from 'node:os';

/** `<hostname>-<pid>`: unique per process; give each replica a stable name instead so a restart resumes its own pending entries. */
export function defaultConsumerName(): string {
  return `${os.hostname()}-${process.pid}`;
}
