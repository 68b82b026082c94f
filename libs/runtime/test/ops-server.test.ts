import { Registry, Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { startOpsServer } from '../src/index.js';

describe('startOpsServer', () => {
  it('serves metrics and health', async () => {
    const registry = new Registry();
    new Counter({ name: 'sluice_test_total', help: 'test', registers: [registry] }).inc(3);
    let ok = true;
    const server = await startOpsServer({ port: 0, host: '127.0.0.1', registry, health: async () => ({ ok, redis: ok ? 'PONG' : 'down' }) });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('sluice_test_total 3');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      ok = false;
      const down = await fetch(`${base}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', ok: false, redis: 'down' });
    } finally {
      await server.close();
    }
  });
});
