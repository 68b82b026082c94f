#!/usr/bin/env node
// `npm start`: runs the three built apps in the foreground. Each child gets its own process group, so a Ctrl-C
// reaches it once (forwarded from here) rather than twice (terminal + forward), which the apps would take as
// "exit at once". A second Ctrl-C is forwarded too, and forces the exit.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const apps = ['ingest-api', 'stream-consumer', 'dead-letter-worker'];
const children = apps.map((app) => {
  const child = spawn(process.execPath, [path.join(root, 'apps', app, 'dist', 'main.js')], {
    stdio: 'inherit',
    detached: true,
    env: process.env,
  });
  child.on('exit', (code, signal) => {
    process.stderr.write(`[start] ${app} exited (${signal ?? `code ${code}`})\n`);
    if (!stopping) stopAll('SIGTERM', 1);
  });
  return child;
});

let stopping = false;
let exitCode = 0;
let lastSignalAt = 0;

function stopAll(signal, code = 0) {
  // The terminal and npm may both deliver one Ctrl-C; count signals closer than 300 ms as one.
  if (Date.now() - lastSignalAt < 300) return;
  lastSignalAt = Date.now();
  stopping = true;
  exitCode = Math.max(exitCode, code);
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));

await Promise.all(
  children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)))),
);
process.exit(exitCode);
