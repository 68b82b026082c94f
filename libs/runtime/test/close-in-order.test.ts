import { describe, expect, it } from 'vitest';
import { closeInOrder } from '../src/index.js';

describe('closeInOrder', () => {
  it('runs every step in order and logs a failing one by name', async () => {
    const ran: string[] = [];
    const errors: unknown[] = [];
    const logger = { info: () => {}, error: (obj: object) => errors.push(obj) };
    await closeInOrder(logger, [
      ['a', () => ran.push('a')],
      [
        'b',
        async () => {
          throw new Error('boom');
        },
      ],
      ['c', async () => ran.push('c')],
    ]);
    expect(ran).toEqual(['a', 'c']);
    expect(errors).toEqual([expect.objectContaining({ step: 'b' })]);
  });
});
