import { describe, expect, it } from 'vitest';
import { captureLogs } from '../src/index.js';

describe('createLogger', () => {
  it('redacts secrets by path', () => {
    const logs = captureLogs();
    logs.logger.info({ url: 'redis://:hunter2@h:6379', req: { headers: { authorization: 'Bearer k1' } }, password: 'p' }, 'hello');
    expect(logs.text()).not.toMatch(/hunter2|Bearer k1|"p"/);
    expect(logs.entries()[0]).toMatchObject({ level: 'info', msg: 'hello', url: '[redacted]' });
  });
});
