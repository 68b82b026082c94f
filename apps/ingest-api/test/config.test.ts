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
    expect(config.PORT).toBe(3000);
    expect(config.INGEST_API_KEYS).toEqual([]);
  });

  it('has the documented limits by default and reads them from the environment', () => {
    expect(loadConfig({})).toMatchObject({
      MAX_EVENT_BYTES: 32768,
      MAX_BATCH_EVENTS: 500,
      MAX_BATCH_BYTES: 524288,
      MAX_TRANSCRIPT_BYTES: 1048576,
    });
    expect(loadConfig({ MAX_EVENT_BYTES: '1000', MAX_BATCH_EVENTS: '10' })).toMatchObject({
      MAX_EVENT_BYTES: 1000,
      MAX_BATCH_EVENTS: 10,
    });
    expect(() => loadConfig({ MAX_BATCH_EVENTS: '0' })).toThrowError(/^Invalid configuration: MAX_BATCH_EVENTS /);
  });

  it('has no rate limit unless RATE_LIMIT_EVENTS_PER_SECOND is a whole number of at least 1', () => {
    expect(loadConfig({}).RATE_LIMIT_EVENTS_PER_SECOND).toBeUndefined();
    expect(loadConfig({ RATE_LIMIT_EVENTS_PER_SECOND: '' }).RATE_LIMIT_EVENTS_PER_SECOND).toBeUndefined();
    expect(loadConfig({ RATE_LIMIT_EVENTS_PER_SECOND: '250' }).RATE_LIMIT_EVENTS_PER_SECOND).toBe(250);
    for (const bad of ['0', '1.5', 'ten']) {
      expect(() => loadConfig({ RATE_LIMIT_EVENTS_PER_SECOND: bad })).toThrowError(
        /^Invalid configuration: RATE_LIMIT_EVENTS_PER_SECOND /,
      );
    }
  });

  it('splits the API keys', () => {
    expect(loadConfig({ INGEST_API_KEYS: 'a, b,,c ' }).INGEST_API_KEYS).toEqual(['a', 'b', 'c']);
  });

  it('names an invalid variable', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrowError(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrowError(/^Invalid configuration: REDIS_URL /);
  });

  it('wants both admin credentials or neither, and never echoes the password', () => {
    expect(() => loadConfig({ ADMIN_USER: 'admin' })).toThrowError(
      /^Invalid configuration: ADMIN_PASSWORD must be set together with ADMIN_USER/,
    );
    expect(() => loadConfig({ ADMIN_PASSWORD: 's3cret-pw' })).toThrowError(/^Invalid configuration: ADMIN_USER /);
    try {
      loadConfig({ ADMIN_PASSWORD: 's3cret-pw' });
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret-pw');
    }
    expect(loadConfig({ ADMIN_USER: 'admin', ADMIN_PASSWORD: 'pw' })).toMatchObject({
      ADMIN_USER: 'admin',
      ADMIN_PASSWORD: 'pw',
    });
  });
});
