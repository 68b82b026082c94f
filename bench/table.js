// The one table the bench prints and writes: a row per contestant, Sluice's rows with their ratios to the peer and
// the ceiling, and whether each target of issue 14 was met.

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The median of each measured figure over a contestant's runs. */
function summarize(runs) {
  if (!runs || runs.length === 0) return undefined;
  const keys = Object.keys(runs[0]).filter((key) => typeof runs[0][key] === 'number');
  const summary = Object.fromEntries(keys.map((key) => [key, median(runs.map((run) => run[key]))]));
  summary.rate = median(runs.map((run) => run.events / run.seconds));
  summary.runs = runs.length;
  return summary;
}

const rounded = (n) => (n >= 10_000 ? Math.round(n / 100) * 100 : n >= 1000 ? Math.round(n / 10) * 10 : Math.round(n));
const count = (n) => (Number.isFinite(n) ? rounded(n).toLocaleString('en-US') : '-');
const ms = (n) => (Number.isInteger(n) || n >= 10 ? Math.round(n).toString() : n.toFixed(1));
const seconds = (n) => (Number.isFinite(n) ? n.toFixed(1) : '');
const percent = (n) => (Number.isFinite(n) ? `${Math.round(n * 100)} %` : '');
const mb = (n) => (Number.isFinite(n) ? `${Math.round(n)} MB` : '');
const times = (r) => (!Number.isFinite(r) ? '-' : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`);
const check = (ok) => (ok ? 'met' : '**missed**');
const ratio = (a, b) => (a && b ? a / b : Number.NaN);

/** Rows for the drain part. */
function drainRows(drain, n) {
  const one = summarize(drain.sluice1);
  const two = summarize(drain.sluice2);
  const values = summarize(drain.values);
  const insertMany = summarize(drain.insertMany);
  const copyMany = summarize(drain.copyMany);
  const copy = summarize(drain.copy);
  const { bullmq, naive } = drain;
  const peer = (p) => p && { ...p, rate: p.events / p.seconds };
  const bull = peer(bullmq);
  const nai = peer(naive);
  const part = `drain, ${count(n)} events`;
  const rows = [];
  const partial = (p) => (p && p.events < n ? ` (${count(p.events)} in ${Math.round(p.seconds)} s)` : '');
  const runsNote = one ? ` (median of ${one.runs})` : '';
  if (one)
    rows.push({
      part,
      contestant: '**Sluice stream-consumer, 1 process**',
      figure: `${count(one.rate)} events/s${runsNote}`,
      ...usageCells(one),
      vsPeer: [bull && `${times(one.rate / bull.rate)} BullMQ`, nai && `${times(one.rate / nai.rate)} naive`]
        .filter(Boolean)
        .join(', '),
      vsCeiling: [
        values && `${times(one.rate / values.rate)} multi-row INSERT`,
        copy && `${times(one.rate / copy.rate)} COPY`,
      ]
        .filter(Boolean)
        .join(', '),
      target: [
        bull && `>= 10x BullMQ: ${check(one.rate / bull.rate >= 10)}`,
        nai && `>= 15x naive: ${check(one.rate / nai.rate >= 15)}`,
        values && `>= 1.0x INSERT: ${check(one.rate / values.rate >= 1)}`,
      ]
        .filter(Boolean)
        .join('; '),
    });
  if (two)
    rows.push({
      part,
      contestant: '**Sluice stream-consumer, 2 processes**',
      figure: `${count(two.rate)} events/s`,
      ...usageCells(two),
      vsPeer: one ? `${times(two.rate / one.rate)} 1 process` : '',
      vsCeiling: values ? `${times(two.rate / values.rate)} multi-row INSERT` : '',
      target: one ? `>= 1.5x 1 process: ${check(two.rate / one.rate >= 1.5)}` : '',
    });
  if (bull)
    rows.push({
      part,
      contestant: 'plain BullMQ: addBulk, Worker concurrency 50, one INSERT per job',
      figure: `${count(bull.rate)} events/s${partial(bull)}`,
      ...usageCells(bull),
    });
  if (nai)
    rows.push({
      part,
      contestant: 'naive stream consumer: XREADGROUP COUNT 10, one INSERT + XACK per entry',
      figure: `${count(nai.rate)} events/s${partial(nai)}`,
      ...usageCells(nai),
    });
  const ceiling = (s, contestant, extra = {}) =>
    s && rows.push({ part, contestant, figure: `${count(s.rate)} rows/s`, ...usageCells(s, false), ...extra });
  ceiling(values, 'ceiling: multi-row INSERT ... VALUES, 1,000 rows a statement, sequential');
  ceiling(insertMany, "ceiling: the consumer's insertMany, 1,000 rows a statement, sequential");
  ceiling(copyMany, 'ceiling: copyInsertMany (COPY to staging + INSERT ... SELECT), 1,000 rows, sequential', {
    vsPeer: insertMany ? `${times(copyMany.rate / insertMany.rate)} insertMany` : '',
    target: insertMany
      ? `adopt if >= 1.15x insertMany: ${copyMany.rate / insertMany.rate >= 1.15 ? 'adopt' : 'keep insertMany'}`
      : '',
  });
  ceiling(copy, 'ceiling: one COPY of every row to staging + one INSERT ... SELECT');
  return rows;
}

function usageCells(s, withRss = true) {
  return {
    cpu: seconds(s.cpuSeconds),
    dbCpu: seconds(s.dbCpuSeconds),
    rss: withRss ? mb(s.peakRssMb) : '',
    host: percent(s.hostBusy),
  };
}

function ingestRows(ingest) {
  const rows = [];
  for (const [key, part, target] of [
    ['single', 'ingest, 1 event a request', 0.8],
    ['batch', 'ingest, 100 events a request', 0.7],
  ]) {
    const set = ingest[key];
    if (!set) continue;
    const figure = (r) =>
      key === 'single'
        ? `${count(r.requestsPerSecond)} req/s, p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms`
        : `${count(r.eventsPerSecond)} events/s (${count(r.requestsPerSecond)} req/s), p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms`;
    const { api, bareXadd, bare } = set;
    const unit = key === 'single' ? 'req' : 'event';
    const perUnit = (r) => (r.cpuSeconds / (r.eventsPerSecond * r.seconds)) * 1e6;
    const cells = (r) => ({
      cpu: `${seconds(r.cpuSeconds)} (${Math.round(perUnit(r))} µs/${unit})`,
      dbCpu: '',
      rss: mb(r.peakRssMb),
      host: percent(r.hostBusy),
    });
    if (api)
      rows.push({
        part,
        contestant: '**ingest-api**',
        figure: figure(api),
        ...cells(api),
        vsPeer: bareXadd
          ? `${times(ratio(api.requestsPerSecond, bareXadd.requestsPerSecond))} bare Koa + XADD (CPU/${unit} ${times(perUnit(api) / perUnit(bareXadd))})`
          : '',
        vsCeiling: bare ? `${times(ratio(api.requestsPerSecond, bare.requestsPerSecond))} bare Koa` : '',
        target: bareXadd
          ? `>= ${target}x bare Koa + XADD: ${check(api.requestsPerSecond / bareXadd.requestsPerSecond >= target)}`
          : '',
      });
    if (bareXadd)
      rows.push({ part, contestant: 'bare Koa + XADD (no validation)', figure: figure(bareXadd), ...cells(bareXadd) });
    if (bare) rows.push({ part, contestant: 'bare Koa, parse only', figure: figure(bare), ...cells(bare) });
  }
  return rows;
}

/** The table's rows from every part's results. */
export function buildRows(results) {
  const rows = [];
  if (results.drain) rows.push(...drainRows(results.drain, results.options.events));
  if (results.ingest) rows.push(...ingestRows(results.ingest));
  const { e2e, e2eBare, memory } = results;
  const latency = (r) =>
    `p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms, max ${ms(r.maxMs)} ms (${count(r.events)} events)`;
  if (e2e)
    rows.push({
      part: `end to end, ${count(e2e.rate)} events/s`,
      contestant: '**ingest-api + stream-consumer**: 202 to row visible',
      figure: latency(e2e),
      host: percent(e2e.hostBusy),
      vsCeiling: e2eBare ? `p99 ${times(e2e.p99Ms / e2eBare.p99Ms)} the bare loop's` : '',
      target: `p99 < 10 ms: ${check(e2e.p99Ms < 10)}`,
    });
  if (e2eBare)
    rows.push({
      part: `end to end, ${count(e2eBare.rate)} events/s`,
      contestant: 'ingest-api + bare loop: XREADGROUP COUNT 1000 BLOCK, insertMany, XACK',
      figure: latency(e2eBare),
      host: percent(e2eBare.hostBusy),
    });
  if (results.cluster) {
    const cluster = { ...results.cluster, rate: results.cluster.events / results.cluster.seconds };
    const two = summarize(results.drain?.sluice2);
    rows.push({
      part: `drain, ${count(cluster.events)} events`,
      contestant: '**Sluice stream-consumer, 2 processes, 8 partitions on a 3-primary Redis Cluster**',
      figure: `${count(cluster.rate)} events/s`,
      ...usageCells(cluster),
      vsPeer: two ? `${times(cluster.rate / two.rate)} 2 processes on one node` : '',
    });
  }
  if (memory) {
    const rate = memory.events / memory.seconds;
    const one = summarize(results.drain?.sluice1);
    rows.push({
      part: `memory, ${count(memory.events)} backlog`,
      contestant: '**Sluice stream-consumer, 1 process**',
      figure: `peak RSS ${mb(memory.peakRssMb)} at ${count(rate)} events/s`,
      ...usageCells(memory),
      vsPeer: one ? `${times(rate / one.rate)} its ${count(results.options.events)}-event rate` : '',
      target: `< 150 MB: ${check(memory.peakRssMb < 150)}`,
    });
  }
  return rows;
}

const COLUMNS = [
  ['part', 'part'],
  ['contestant', 'contestant'],
  ['figure', 'result'],
  ['cpu', 'CPU s'],
  ['dbCpu', 'Postgres CPU s'],
  ['rss', 'peak RSS'],
  ['host', 'host busy'],
  ['vsPeer', 'vs peer'],
  ['vsCeiling', 'vs ceiling'],
  ['target', 'target'],
];

/** The rows as one Markdown table, columns padded so it reads in a terminal too; a part is named once. */
export function renderTable(rows) {
  const cells = rows.map((row, i) =>
    COLUMNS.map(([key]) => (key === 'part' && i > 0 && rows[i - 1].part === row.part ? '' : String(row[key] ?? ''))),
  );
  const header = COLUMNS.map(([, title]) => title);
  const widths = header.map((title, c) => Math.max(title.length, ...cells.map((row) => row[c].length)));
  const line = (values) => `| ${values.map((v, c) => v.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
