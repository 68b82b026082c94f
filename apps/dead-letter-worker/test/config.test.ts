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
    expect(config.DEAD_LETTER_ATTEMPTS).toBe(5);
    expect(config.METRICS_PORT).toBeUndefined();
  });

  it('reads DEAD_LETTER_ATTEMPTS and METRICS_PORT', () => {
    const config = loadConfig({ DEAD_LETTER_ATTEMPTS: '8', METRICS_PORT: '9464' });
    expect(config.DEAD_LETTER_ATTEMPTS).toBe(8);
    expect(config.METRICS_PORT).toBe(9464);
    expect(() => loadConfig({ DEAD_LETTER_ATTEMPTS: '0' })).toThrowError(
      /^Invalid configuration: DEAD_LETTER_ATTEMPTS must be at least 1/,
    );
  });

  it('names an invalid variable', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrowError(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrowError(/^Invalid configuration: REDIS_URL /);
  });
});
