import { ConfigError } from '@sluice/config';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('uses the contract defaults', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/sluice');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.STREAM_KEY).toBe('events:incoming');
    expect(config.DEAD_LETTER_QUEUE).toBe('events-dead-letter');
    expect(config).toMatchObject({
      CONSUMER_GROUP: 'event-processors',
      MAX_DELIVERIES: 3,
      CLAIM_MIN_IDLE_MS: 60_000,
      READ_COUNT: 1000,
      BLOCK_MS: 5000,
      CLAIM_INTERVAL_MS: 5000,
      RETRY_DELAY_MS: 1000,
      TRIM_INTERVAL_MS: 30_000,
      STATS_INTERVAL_MS: 60_000,
      BATCH_CONCURRENCY: 2,
      DB_POOL_MAX: 4,
    });
    expect(config.METRICS_PORT).toBeUndefined();
  });

  it('names an out-of-range tuning knob', () => {
    expect(() => loadConfig({ READ_COUNT: '0' })).toThrowError(/^Invalid configuration: READ_COUNT must be at least 1/);
    expect(() => loadConfig({ BATCH_CONCURRENCY: 'two' })).toThrowError(/^Invalid configuration: BATCH_CONCURRENCY /);
  });

  it('names an invalid variable', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrowError(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrowError(/^Invalid configuration: REDIS_URL /);
  });
});
