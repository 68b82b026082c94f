// The drain of Sluice itself: the built stream-consumer, one or more processes in one group, on a fresh copy of the
// events, timed from the first process's `Event consumer started` until the group has acked everything.
import { createRequire } from 'node:module';
import path from 'node:path';
import { ackedByGroup, measure } from './measure.js';
import { startNode, stop } from './processes.js';

const require = createRequire(import.meta.url);

/** The file a workspace app runs (its `main`, `dist/main.js`), given its package.json. */
export function appEntry(manifest) {
  return path.join(path.dirname(manifest), require(manifest).main);
}

/** The built consumer. */
export const CONSUMER_ENTRY = appEntry(require.resolve('@sluice/stream-consumer/package.json'));

/** The stream-consumer's environment for a bench run. */
export function consumerEnv(ctx, { stream, group, name, queue }) {
  return {
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: ctx.redisUrl,
    STREAM_KEY: stream,
    CONSUMER_GROUP: group,
    CONSUMER_NAME: name,
    DEAD_LETTER_QUEUE: queue,
    LOG_LEVEL: 'info',
  };
}

/**
 * Drains a copy of the template stream (or `stream`, which the caller filled) with `processes` stream-consumers and
 * checks every event became a row. `entry` runs another build (an A/B); `nodeArgs` adds flags (`--cpu-prof`).
 */
export async function drainSluice(
  ctx,
  { processes = 1, entry = CONSUMER_ENTRY, nodeArgs = [], env = {}, stream, progress },
) {
  const key = stream ?? (await ctx.copyTemplate('stream'));
  const total = Number(await ctx.redis.xlen(key));
  const group = ctx.name('group');
  const queue = ctx.name('dlq');
  await ctx.resetTables();
  const started = await Promise.allSettled(
    Array.from({ length: processes }, (_, i) =>
      startNode(entry, {
        nodeArgs,
        ready: /Event consumer started/,
        env: { ...consumerEnv(ctx, { stream: key, group, name: `bench-${i + 1}`, queue }), ...env },
      }),
    ),
  );
  const children = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const label = `drain: Sluice, ${processes} consumer process${processes > 1 ? 'es' : ''}`;
    const result = await measure(ctx, children, {
      done: () => ackedByGroup(ctx.redis, key, group),
      total,
      label,
      progress,
    });
    const rows = await ctx.countRows();
    if (rows !== total) throw new Error(`${label}: ${rows} rows for ${total} events`);
    return result;
  } finally {
    await Promise.all(children.map(({ child }) => stop(child)));
    await ctx.redis.unlink(key);
  }
}
