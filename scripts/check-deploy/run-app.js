// Starts a pruned app the way its image would (the last stage's CMD and ENV) against the local Postgres and Redis,
// waits for /readyz, then stops it with SIGTERM as an orchestrator does and expects a clean exit.
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import net from 'node:net';

const READY_TIMEOUT_MS = 30_000;
/** docker-compose gives the workers 15 s (stop_grace_period); an app that needs longer is killed there. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * Runs `node libs/db/dist/bin/migrate.js` in `dir`, as docker-compose's migrate service does, with `env`.
 * Throws with the command's output when it fails.
 */
export async function migrate(dir, env, logFile) {
  const { code, output } = await runToEnd(process.execPath, ['libs/db/dist/bin/migrate.js'], { cwd: dir, env });
  await appendFile(logFile, `\n$ node libs/db/dist/bin/migrate.js\n${output}`);
  if (code !== 0) throw new Error(`migrate.js exited ${code}: ${output.trim()}`);
  return output.trim();
}

/**
 * Starts `cmd` (exec form; `node` is this Node) in `dir` with `env`, which must set both PORT and METRICS_PORT to
 * `port` so /readyz answers there whichever the app reads. Returns `{ readyAfterMs, exitCode, stopMs }`.
 */
export async function startAndStop({ dir, cmd, env, port, logFile }) {
  const [program, ...args] = cmd;
  const child = spawn(program === 'node' ? process.execPath : program, args, {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk) => (output += chunk.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let exitedEarly;
  void exited.then((result) => (exitedEarly = result));

  const started = performance.now();
  try {
    let last = 'no answer';
    while (performance.now() - started < READY_TIMEOUT_MS) {
      if (exitedEarly)
        throw new Error(`exited (${exitedEarly.signal ?? `code ${exitedEarly.code}`}) before /readyz answered 200`);
      const answer = await probe(`http://127.0.0.1:${port}/readyz`);
      if (answer.status === 200) break;
      last = answer.status ? `${answer.status} ${answer.body}` : answer.error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const readyAfterMs = performance.now() - started;
    if (readyAfterMs >= READY_TIMEOUT_MS)
      throw new Error(`/readyz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${last})`);

    const stopping = performance.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const { code, signal } = await exited;
    clearTimeout(timer);
    const stopMs = performance.now() - stopping;
    if (code !== 0)
      throw new Error(
        `after SIGTERM it exited with ${signal ?? `code ${code}`}${signal === 'SIGKILL' ? ` (killed after ${STOP_TIMEOUT_MS / 1000} s)` : ''}`,
      );
    return { readyAfterMs, stopMs };
  } catch (err) {
    const tail = output.trimEnd().split('\n').slice(-20).join('\n');
    err.message = `${err.message}\n--- its last lines:\n${tail}`;
    throw err;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await appendFile(logFile, `\n$ ${cmd.join(' ')}\n${output}`);
  }
}

/** A port nothing listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function probe(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, body: (await response.text()).slice(0, 300) };
  } catch (err) {
    return { error: err.cause?.code ?? err.message };
  }
}

function runToEnd(program, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk.toString()));
    child.stderr.on('data', (chunk) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
