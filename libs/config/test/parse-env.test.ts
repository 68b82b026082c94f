import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonFields, intField, listField, parseEnv } from '../src/index.js';

const schema = z.object({
  DATABASE_URL: commonFields.DATABASE_URL,
  PORT: intField(3000, 1, 65535),
  KEYS: listField(),
});

describe('parseEnv', () => {
  it('applies defaults and treats empty strings as unset', () => {
    const config = parseEnv(schema, { PORT: '', KEYS: ' a, ,b ' });
    expect(config).toEqual({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sluice', PORT: 3000, KEYS: ['a', 'b'] });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names the variable in a one-line error', () => {
    expect(() => parseEnv(schema, { PORT: 'abc' })).toThrowError(/^Invalid configuration: PORT must be a whole number/);
    expect(() => parseEnv(schema, { PORT: '70000' })).toThrowError(ConfigError);
  });

  it('never echoes a URL that may hold a password', () => {
    try {
      parseEnv(schema, { DATABASE_URL: 'mysql://user:hunter2@host/db' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).variable).toBe('DATABASE_URL');
      expect((err as Error).message).not.toContain('hunter2');
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
