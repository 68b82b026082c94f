import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

/** A `redis-server` of a test's own, on a spare port, that the test may stop and start to simulate an outage. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** Its working folder (the AOF files live in `appendonlydir/` there). */
  dir: string;
  /** Starts it (again) on the same port: empty without `appendOnly`, with what its AOF holds with it. */
  start(): Promise<void>;
  /** Kills it (SIGKILL: an outage, not a clean shutdown). */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

/** Options for {@link startPrivateRedis}. */
export interface PrivateRedisOptions {
  /** Puts `requirepass` on it. */
  password?: string;
  /** AOF with `appendfsync always`, so a restart (even after SIGKILL) keeps every write it answered. @defaultValue false */
  appendOnly?: boolean;
}

/** Starts a private redis-server (no persistence unless `appendOnly`). */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-redis-'));
  let child: ChildProcess | undefined;
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `redis://${auth}127.0.0.1:${port}`;

  const start = async () => {
    const persistence = options.appendOnly
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir];
    if (options.password) args.push('--requirepass', options.password);
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(
      async () => {
        const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        // Refused connections are expected while the server starts; waitFor retries them.
        probe.on('error', () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { what: `redis-server on port ${port}`, timeoutMs: 10_000 },
    );
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await start();
  return {
    port,
    url,
    dir,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
