// The bench's options: flags, each with an environment variable of the same meaning (a flag wins).
import { parseArgs } from 'node:util';

export const PARTS = ['drain', 'ingest', 'e2e', 'memory', 'cluster'];

/** Name, environment variable, default, default under --quick, and what it is. */
const NUMBERS = [
  ['events', 'BENCH_EVENTS', 200_000, 2000, 'events in the drain (every contestant drains the same ones)'],
  ['runs', 'BENCH_RUNS', 3, 1, 'rounds of the fast drains (Sluice, the ceilings), interleaved; medians are shown'],
  ['peer-seconds', 'BENCH_PEER_SECONDS', 30, 2, 'time limit of the slow peers (BullMQ, naive); 0: until drained'],
  ['seconds', 'BENCH_SECONDS', 10, 1, 'autocannon run per ingest server'],
  ['warmup', 'BENCH_WARMUP', 3, 0, 'autocannon warm-up per ingest server, seconds'],
  ['connections', 'BENCH_CONNECTIONS', 50, 10, 'autocannon connections'],
  ['rate', 'BENCH_E2E_RATE', 2000, 500, 'end to end: events per second'],
  ['e2e-seconds', 'BENCH_E2E_SECONDS', 10, 2, 'end to end: seconds measured (after 2 s of warm-up, 0.5 s --quick)'],
  ['backlog', 'BENCH_BACKLOG', 1_000_000, 5000, 'memory: entries in the backlog the consumer drains'],
];

/** The usage text for --help. */
export function usage() {
  const lines = NUMBERS.map(
    ([name, env, full, quick, what]) => `  --${name} N (${env}, ${full}; --quick ${quick}): ${what}`,
  );
  return [
    'npm run bench -- [options]: Sluice against its peers in one run; writes docs/benchmarks.md (npm run build first)',
    `  --only PARTS / --skip PARTS (BENCH_ONLY, BENCH_SKIP): comma-separated, of ${PARTS.join(', ')}`,
    '  --quick (BENCH_QUICK=1): small and short, to prove the bench works; writes no docs unless --out is given',
    '  --out FILE (BENCH_OUT): where the Markdown goes (default docs/benchmarks.md; - for nowhere)',
    '  --json FILE (BENCH_JSON): also write every figure as JSON',
    '  --render FILE: run nothing; print and write the table of a run saved with --json (after editing bench/notes.md)',
    ...lines,
  ].join('\n');
}

/** Parses `argv` and `env`; throws on an unknown flag, a bad number or an unknown part. */
export function parseOptions(argv, env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      help: { type: 'boolean' },
      only: { type: 'string' },
      skip: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'string' },
      render: { type: 'string' },
      ...Object.fromEntries(NUMBERS.map(([name]) => [name, { type: 'string' }])),
    },
  });
  const quick = values.quick ?? env.BENCH_QUICK === '1';
  const options = { quick, help: values.help ?? false };
  for (const [name, variable, full, short] of NUMBERS) {
    const raw = values[name] ?? env[variable];
    const value = raw === undefined || raw === '' ? (quick ? short : full) : Number(raw.replaceAll('_', ''));
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`--${name} (${variable}) must be a number >= 0, not ${raw}`);
    options[camel(name)] = value;
  }
  if (options.events < 1 || options.runs < 1) throw new Error('--events and --runs must be at least 1');
  const list = (text) =>
    (text ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
  const only = list(values.only ?? env.BENCH_ONLY);
  const skip = list(values.skip ?? env.BENCH_SKIP);
  for (const part of [...only, ...skip])
    if (!PARTS.includes(part)) throw new Error(`unknown part ${part} (${PARTS.join(', ')})`);
  options.parts = PARTS.filter((part) => (only.length === 0 || only.includes(part)) && !skip.includes(part));
  const out = values.out ?? env.BENCH_OUT ?? (quick ? '-' : 'docs/benchmarks.md');
  options.out = out === '-' ? undefined : out;
  options.json = values.json ?? env.BENCH_JSON;
  options.render = values.render;
  options.warmupE2e = quick ? 0.5 : 2;
  return Object.freeze(options);
}

function camel(name) {
  return name.replace(/-(\w)/g, (_, c) => c.toUpperCase());
}
