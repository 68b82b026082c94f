// docs/benchmarks.md: when and where the run was taken, the table, and the notes kept by hand in bench/notes.md
// (what the figures mean for the targets, the profiles, the COPY comparison), so a new run keeps them.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

/** One line saying when, on what, under what load, and with which options the figures were taken. */
function describeRun(machine, options) {
  const load = (l) => l.map((v) => v.toFixed(2)).join(' ');
  return [
    `${machine.date.replace('T', ' ').slice(0, 16)} UTC`,
    `${machine.cores} cores (${machine.cpuModel})`,
    `Node ${machine.node}`,
    `PostgreSQL ${machine.postgres}`,
    `Redis ${machine.redis}`,
    `load average ${load(machine.loadBefore)} before, ${load(machine.loadAfter)} after`,
    `${options.events.toLocaleString('en-US')} events, ${options.runs} round${options.runs > 1 ? 's' : ''}`,
    `took ${Math.round(machine.seconds / 60)} min${options.quick ? ' (--quick)' : ''}`,
  ].join(', ');
}

/** Writes the Markdown page to `file`. */
export async function writeReport(file, { machine, options, table }) {
  const notes = await readFile(new URL('./notes.md', import.meta.url), 'utf8').catch(() => '');
  const page = [
    '# Benchmarks',
    '',
    "Written by `npm run bench`; the README's [Benchmark](../README.md#benchmark) section says how to run it and what",
    'each row means. Absolute figures move with the machine (it is shared, and everything runs on it: Postgres, Redis,',
    'the apps and the load generator); the ratios come from one run and are what to compare.',
    '',
    `Run: ${describeRun(machine, options)}.`,
    '',
    table,
    '',
    notes.trim(),
    '',
  ].join('\n');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, page);
}
