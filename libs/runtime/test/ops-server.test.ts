import { Registry, Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { startOpsServer } from '../src/index.js';

describe('startOpsServer', () => {
  it('serves metrics, liveness and readiness', async () => {
    const registry = new Registry();
    new Counter({ name: 'sluice_test_total', help: 'test', registers: [registry] }).inc(3);
    let ready = true;
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      live: async () => ({ ok: true, loop: 'running' }),
      ready: async () => ({ ok: ready, redis: ready ? 'PONG' : 'down' }),
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('sluice_test_total 3');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      ready = false;
      const down = await fetch(`${base}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', ok: false, redis: 'down' });
      // Not ready is not dead: liveness still answers 200.
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok', ok: true, loop: 'running' });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
