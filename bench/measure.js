// Timing one contestant: from the moment its processes say they are ready until the work is done (or a time limit),
// with the CPU its processes and their Postgres backends used meanwhile and its largest peak RSS.
import { busyShare, hostCpu, usage } from './processes.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `done()` until it reaches `total` or `seconds` have passed (0: no limit; it fails after `stallMs` without
 * progress), then reads what the processes used.
 * `children` are the values `startNode` resolved with. Returns `{ events, seconds, cpuSeconds, dbCpuSeconds,
 * peakRssMb, hostBusy }`, `events` being what was done by then and `hostBusy` the share of the whole machine's CPU
 * that was busy meanwhile (whoever used it: on a shared machine, other people's work shows here).
 */
export async function measure(
  ctx,
  children,
  { done, total, seconds = 0, label, progress, pollMs = 20, stallMs = 60_000 },
) {
  const from = Math.min(...children.map((c) => c.readyAt));
  const before = await Promise.all(children.map(({ child }) => usage(child.pid)));
  const dbBefore = await ctx.backendCpu();
  const hostBefore = await hostCpu();
  const deadline = seconds > 0 ? from + seconds * 1000 : Infinity;
  let count = 0;
  let finishedAt = from;
  let movedAt = from;
  for (let reportedAt = 0; ; await sleep(pollMs)) {
    const now = (await done()) ?? 0;
    finishedAt = performance.now();
    if (now !== count) movedAt = finishedAt;
    count = now;
    if (finishedAt - movedAt > stallMs)
      throw new Error(`${label}: no progress for ${stallMs / 1000} s at ${count} of ${total}`);
    const exited = children.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    if (exited) throw new Error(`${label}: the process exited early: ${exited.stderr().trim().slice(-800)}`);
    if (count >= total || finishedAt >= deadline) break;
    if (finishedAt - reportedAt > 250) {
      reportedAt = finishedAt;
      progress?.(`${label}: ${count.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);
    }
  }
  const after = await Promise.all(children.map(({ child }) => usage(child.pid)));
  const dbAfter = await ctx.backendCpu();
  const hostBusy = busyShare(hostBefore, await hostCpu());
  let dbCpuSeconds = 0;
  for (const [pid, cpu] of dbAfter) dbCpuSeconds += cpu - (dbBefore.get(pid) ?? 0);
  return {
    events: count,
    seconds: (finishedAt - from) / 1000,
    cpuSeconds: after.reduce((sum, u, i) => sum + u.cpuSeconds - before[i].cpuSeconds, 0),
    dbCpuSeconds,
    peakRssMb: Math.max(...after.map((u) => u.peakRssMb)),
    hostBusy,
  };
}

/** The group's progress from XINFO GROUPS: entries acked so far (read minus pending); undefined before it exists. */
export async function ackedByGroup(redis, stream, group) {
  const groups = await redis.xinfo('GROUPS', stream).catch(() => []);
  for (const fields of groups) {
    const info = {};
    for (let i = 0; i < fields.length; i += 2) info[fields[i]] = fields[i + 1];
    if (info.name === group) return Number(info['entries-read'] ?? 0) - Number(info.pending);
  }
  return undefined;
}
