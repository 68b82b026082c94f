import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.js';

describe('createLogger', () => {
  it('redacts secrets by path', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        callback();
      },
    });
    const logger = createLogger({ name: 'test', level: 'debug', destination });
    logger.info(
      { url: 'redis://:hunter2@h:6379', req: { headers: { authorization: 'Bearer k1' } }, password: 'p' },
      'hello',
    );
    expect(lines.join('\n')).not.toMatch(/hunter2|Bearer k1|"p"/);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'info', msg: 'hello', url: '[redacted]' });
  });
});
