import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, startPrivatePostgres, startPrivateRedis } from '../src/index.js';

describe('private servers', () => {
  it('starts, stops and restarts a private redis-server', async () => {
    const server = await startPrivateRedis();
    try {
      const client = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
      await server.stop();
      await server.start();
    } finally {
      await server.destroy();
    }
  });

  it('keeps what it answered across a kill -9 with appendOnly (appendfsync always)', async () => {
    const server = await startPrivateRedis({ appendOnly: true });
    try {
      const client = new Redis(server.url, { maxRetriesPerRequest: null });
      await client.set('kept', 'yes');
      await server.stop();
      await server.start();
      expect(await client.get('kept')).toBe('yes');
      client.disconnect();
    } finally {
      await server.destroy();
    }
  });

  it('starts and stops a private Postgres cluster', async () => {
    const server = await startPrivatePostgres();
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      expect((await client.query('select 1 as one')).rows[0]).toEqual({ one: 1 });
      await client.end();
    } finally {
      server.destroy();
    }
  });

  it('creates and drops a database of its own', async () => {
    const database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    expect((await client.query('select current_database() as name')).rows[0].name).toBe(database.name);
    await client.end();
    await database.drop();
  });
});
