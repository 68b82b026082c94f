import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

/** A Postgres cluster of a test's own, on a spare port, that the test may stop and start to simulate an outage. */
export interface PrivatePostgres {
  port: number;
  /** URL of its `postgres` database. */
  url: string;
  /** Starts it (again) on the same port, keeping its data. */
  start(): void;
  /** Stops it at once (`-m immediate`: like a crash, connections are cut). */
  stop(): void;
  /** Stops it and removes its files. */
  destroy(): void;
}

function binDir(): string {
  return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
}

/** Runs a Postgres tool as the `postgres` user when we are root (Postgres refuses to run as root). */
function runAsPostgres(tool: string, args: string[]): void {
  const bin = path.join(binDir(), tool);
  const isRoot = process.getuid?.() === 0;
  const [command, commandArgs] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(command, commandArgs, { stdio: 'pipe' });
}

/** Creates and starts a private cluster (initdb takes a second or two). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  runAsPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () => runAsPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const stop = () => {
    try {
      runAsPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already stopped.
    }
  };
  start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: () => {
      stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
