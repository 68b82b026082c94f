// Child processes of the bench: start one, wait until it says it is ready, read what it used (CPU seconds and peak RSS
// from /proc, so the figure covers the whole process whatever it runs), stop it.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ, the unit of utime/stime in /proc/<pid>/stat on Linux

/** The children started and not yet exited, so an interrupted bench can take them down with it. */
const live = new Set();

/** Kills every child still running (SIGKILL): for a bench that is being interrupted. */
export function killAll() {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * Starts `node [nodeArgs] script [args]` with `env` added to this process's environment, and resolves once a line of
 * its stdout matches `ready` (after which stdout is drained without being decoded, unless `onLine` wants every line).
 * Rejects, and kills it, if it exits first or is not ready within `timeoutMs`.
 */
export function startNode(
  script,
  { args = [], nodeArgs = [], env = {}, ready = /ready/i, onLine, timeoutMs = 30_000 } = {},
) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    let isReady = false;
    const onData = (chunk) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        onLine?.(line);
        if (isReady || !ready.test(line)) continue;
        isReady = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ child, readyAt: performance.now(), stderr: () => stderr });
        if (onLine) continue;
        // The rest of the log is not read: decoding it would take CPU from the processes being measured.
        child.stdout.off('data', onData);
        child.stdout.resume();
        return;
      }
      if (buffer.length > 65_536) buffer = buffer.slice(-1024);
    };
    const onExit = (code) =>
      reject(new Error(`${script} exited before it was ready (code ${code}): ${stderr.trim().slice(-800)}`));
    const timer = setTimeout(() => {
      if (isReady) return;
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`${script} was not ready after ${timeoutMs} ms: ${stderr.trim().slice(-800)}`));
    }, timeoutMs);
    child.once('exit', () => clearTimeout(timer));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** CPU seconds (user + system) and peak resident set (MB) of a live process, from /proc. */
export async function usage(pid) {
  const [stat, status] = await Promise.all([
    readFile(`/proc/${pid}/stat`, 'utf8'),
    readFile(`/proc/${pid}/status`, 'utf8'),
  ]);
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds, peakRssMb: peakKb / 1024 };
}

/** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`); resolves with the exit code. */
export async function stop(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** The host's CPU counters from /proc/stat (all cores): busy and total ticks. */
export async function hostCpu() {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0];
  const ticks = line.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already counted in user)
  const total = ticks.slice(0, 8).reduce((sum, n) => sum + n, 0);
  return { busy: total - ticks[3] - ticks[4], total };
}

/** The share of the host's CPU (0-1, all cores) that was busy between two `hostCpu()` snapshots. */
export function busyShare(before, after) {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : Number.NaN;
}
