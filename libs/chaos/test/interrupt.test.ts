import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHAOS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/bin/chaos.js');

/** True when something accepts a connection on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(true)).once('error', () => resolve(false));
    socket.setTimeout(1000, () => resolve(false));
  });
}

// A run stopped halfway (Ctrl-C, or a SIGTERM from whatever started it) must not leave its servers behind: the
// private Postgres runs detached from the run and would outlive it, holding a port and a temporary folder.
describe('npm run chaos stopped by a signal', () => {
  it('tears down its apps and servers and exits 143', async () => {
    const child = spawn(process.execPath, [CHAOS, '--duration', '60s', '--seed', '7', '--faults', 'consumer-kill'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const where = /Redis on (\S+), Postgres on (\S+), the API on \S+:(\d+)/.exec(stderr);
        if (where && /load at/.test(stderr)) {
          const [, redis = '', postgres = '', api = ''] = where;
          resolve([...redis.split(','), postgres].map((address) => Number(address.split(':')[1])).concat(Number(api)));
        }
      });
      child.once('exit', () => reject(new Error(`chaos exited before its load started:\n${stderr}`)));
    });
    for (const port of ports) expect(await listening(port), `port ${port} before the signal`).toBe(true);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(143);
    for (const port of ports) expect(await listening(port), `port ${port} after the run`).toBe(false);
  }, 90_000);
});
