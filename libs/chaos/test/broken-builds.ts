import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * A deliberately broken consumer, made for a test and never shipped: a module preloaded into the built consumer
 * (`NODE_OPTIONS=--import ...`) that patches the ioredis client the consumer uses. Each one prints `chaos-break:` when
 * its patch is exercised, so a test can tell "the checker missed it" from "the break never happened".
 */
export interface BrokenBuild {
  label: string;
  /** The preload's source. */
  source: string;
}

const PRELUDE = `
import { createRequire } from 'node:module';
// Resolved from the consumer's own main, so this is the very ioredis instance the consumer uses.
const { Redis } = createRequire(process.argv[1])('ioredis');
const said = new Set();
const say = (what) => { if (!said.has(what)) { said.add(what); process.stderr.write('chaos-break: ' + what + '\\n'); } };
`;

/** The group re-created at `$` instead of `0`: whatever was in the stream and not yet delivered is skipped. */
export const GROUP_AT_END: BrokenBuild = {
  label: 'consumer group re-created at $',
  source: `${PRELUDE}
const xgroup = Redis.prototype.xgroup;
Redis.prototype.xgroup = function (...args) {
  if (String(args[0]).toUpperCase() === 'CREATE') { args[3] = '$'; say('XGROUP CREATE at $'); }
  return xgroup.apply(this, args);
};
`,
};

/** Ack before insert: new entries are read with NOACK, so they are never pending while they are being stored. */
export const ACK_BEFORE_INSERT: BrokenBuild = {
  label: 'ack before insert (XREADGROUP NOACK)',
  source: `${PRELUDE}
const xreadgroup = Redis.prototype.xreadgroup;
Redis.prototype.xreadgroup = function (...args) {
  if (args.at(-1) === '>' && !args.includes('NOACK')) { args.splice(args.indexOf('STREAMS'), 0, 'NOACK'); say('XREADGROUP NOACK'); }
  return xreadgroup.apply(this, args);
};
`,
};

/** Writes the preload into a temporary folder (`dir`, for the caller to remove) and the consumer environment loading it. */
export function brokenConsumerEnv(build: BrokenBuild): { env: Record<string, string>; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-broken-'));
  const file = path.join(dir, 'broken.mjs');
  writeFileSync(file, build.source);
  return { env: { NODE_OPTIONS: `--import=${pathToFileURL(file).href}` }, dir };
}
