import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A built app running as a child process, with its output collected. */
export interface SpawnedApp {
  proc: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Its JSON log lines so far, parsed. */
  lines(): Array<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal) once it has exited. */
  exited: Promise<number | null>;
  /** SIGKILLs it if it is still running (for afterEach). */
  kill(): void;
}

/** Starts `node <script>` with `env` added to this process's environment. */
export function spawnApp(script: string, env: Record<string, string>): SpawnedApp {
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const lines = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    proc,
    output: () => output,
    lines,
    exited,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

const require = createRequire(import.meta.url);

/**
 * The built entry point (`dist/main.js`) of a workspace app, by package name. The calling package lists the app as a
 * devDependency, so turbo builds the app before the caller's tests run.
 */
export function appEntry(packageName: string): string {
  return path.join(path.dirname(require.resolve(`${packageName}/package.json`)), 'dist', 'main.js');
}
