import { randomBytes } from 'node:crypto';

/** The Redis tests talk to; `TEST_REDIS_URL` overrides it. */
export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
}

/** A key (or queue name) no other test uses: `test-<label>-<random>`. Never contains `:` so it also works as a BullMQ queue name. */
export function uniqueKey(label: string): string {
  return `test-${label}-${randomBytes(6).toString('hex')}`;
}
