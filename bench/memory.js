// Memory: the consumer's peak RSS while it drains a large backlog (1,000,000 entries by default), with its rate, so
// a memory saving that costs throughput shows.
import { drainSluice } from './drain.js';
import { fillStream } from './context.js';
import { makeEventTexts } from './events.js';

/** Fills a stream with `backlog` events (made 10,000 at a time, so this process holds few) and drains it. */
export async function benchBacklog(ctx, { backlog, progress, nodeArgs }) {
  const stream = ctx.name('backlog');
  for (let done = 0; done < backlog; done += 10_000) {
    const texts = makeEventTexts(Math.min(10_000, backlog - done));
    await fillStream(ctx.redis, stream, texts);
    progress?.(`memory: filling a backlog of ${backlog.toLocaleString('en-US')}: ${done + texts.length}`);
  }
  return drainSluice(ctx, { stream, progress, nodeArgs });
}
