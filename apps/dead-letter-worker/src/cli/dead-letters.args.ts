import { parseArgs } from 'node:util';

/** What the CLI can do: to the failed set in the queue (list, retry, purge), or in the archive (search). */
type DeadLettersCommand = 'list' | 'retry' | 'purge' | 'search';

/** `search` filters on the archive (`dead_letters` in Postgres), besides `type` and `since`. */
interface ArchiveSearchArgs {
  verdict?: 'data' | 'code';
  state?: 'failed' | 'redriven' | 'resolved' | 'purged';
  until?: Date;
  /** A case-insensitive substring of the error message. */
  error?: string;
  /** A JSON object the event's payload must contain. */
  payload?: Record<string, unknown>;
  /** @defaultValue 50 */
  limit: number;
  /** One JSON object per line instead of the table. */
  json: boolean;
}

/** The CLI's arguments, validated. */
export interface DeadLettersArgs {
  command: DeadLettersCommand;
  /** Matches the job name: the event type, or `undecodable` for entries that could not be decoded. */
  type?: string;
  /** Only jobs that failed at or after this time. */
  since?: Date;
  dryRun: boolean;
  /** Failed jobs read per round trip. @defaultValue 100 */
  pageSize: number;
  /** `retry`: re-queue archived dead letters (state failed or redriven) whose job is no longer in the queue. */
  fromArchive: boolean;
  search: ArchiveSearchArgs;
}

/** Thrown for bad arguments; the CLI prints its message and {@link USAGE}, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The usage line(s) printed with every argument error and for `--help`. */
export const USAGE = `Usage: npm run dead-letters -- <list|retry|purge|search> [options]

  list    print the failed dead letters, newest first: id, type, event id, attempts, failed at, reason
  retry   move the matching failed jobs back to the queue (oldest first), with a fresh set of attempts;
          with --from-archive, re-queue archived dead letters (failed or redriven) whose job is gone from the queue
  purge   delete the matching failed jobs for good (the archive keeps them, marked purged)
  search  search the archive in Postgres, newest first: job id, state, verdict, type, event id, time, error

  --type <event_type>  only jobs of this event type; "undecodable" matches entries that could not be decoded
  --since <time>       only jobs that failed at or after <time>: an ISO 8601 time (2026-11-22T10:00:00Z) or an
                       age such as 30m, 12h, 7d (units s, m, h, d)
  --dry-run            print what retry or purge would do, and change nothing
  --page-size <n>      failed jobs read per round trip, 1-1000 (default 100)
  --from-archive       retry: take the dead letters from the archive, not from the failed set

  search only:
  --verdict <data|code>, --state <failed|redriven|resolved|purged>, --until <time>
  --error <text>       a case-insensitive substring of the error message
  --payload <json>     a JSON object the event's payload contains, e.g. '{"user":"ada"}'
  --limit <n>          rows, 1-500 (default 50)
  --json               one JSON object per line instead of the table

Every retry and purge is recorded in the archive's history with your OS user name. Configuration comes from the
same variables as the worker: REDIS_URL, DATABASE_URL, DEAD_LETTER_QUEUE, BULLMQ_PREFIX.`;

const COMMANDS: readonly string[] = ['list', 'retry', 'purge', 'search'];
const VERDICTS: readonly string[] = ['data', 'code'];
const STATES: readonly string[] = ['failed', 'redriven', 'resolved', 'purged'];
const EVENT_TYPE = /^[A-Za-z0-9._:-]{1,128}$/;
const AGE = /^(\d+)([smhd])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `--help` was asked for: print {@link USAGE} and exit 0. */
export const HELP = Symbol('help');

/** Parses and validates the CLI's arguments (node:util parseArgs, strict: unknown options are errors). */
export function parseDeadLettersArgs(argv: readonly string[], now: Date = new Date()): DeadLettersArgs | typeof HELP {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        type: { type: 'string' },
        since: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'page-size': { type: 'string' },
        'from-archive': { type: 'boolean', default: false },
        verdict: { type: 'string' },
        state: { type: 'string' },
        until: { type: 'string' },
        error: { type: 'string' },
        payload: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return HELP;
  if (positionals.length === 0) throw new UsageError('Missing command: expected list, retry, purge or search');
  if (positionals.length > 1) throw new UsageError(`Expected one command, got: ${positionals.join(' ')}`);
  const command = positionals[0] as string;
  if (!COMMANDS.includes(command))
    throw new UsageError(`Unknown command "${command}": expected list, retry, purge or search`);
  if (values['from-archive'] && command !== 'retry') throw new UsageError('--from-archive goes with retry only');

  const args: DeadLettersArgs = {
    command: command as DeadLettersCommand,
    dryRun: values['dry-run'],
    pageSize: parsePageSize(values['page-size']),
    fromArchive: values['from-archive'],
    search: parseSearch(values, now),
  };
  if (values.type !== undefined) {
    if (!EVENT_TYPE.test(values.type))
      throw new UsageError(`Invalid --type "${values.type}": expected an event type (letters, digits, . _ : -)`);
    args.type = values.type;
  }
  if (values.since !== undefined) args.since = parseSince(values.since, now);
  return args;
}

function parseSearch(
  values: {
    verdict?: string;
    state?: string;
    until?: string;
    error?: string;
    payload?: string;
    limit?: string;
    json: boolean;
  },
  now: Date,
): ArchiveSearchArgs {
  const search: ArchiveSearchArgs = { limit: 50, json: values.json };
  if (values.verdict !== undefined) {
    if (!VERDICTS.includes(values.verdict))
      throw new UsageError(`Invalid --verdict "${values.verdict}": expected data or code`);
    search.verdict = values.verdict as ArchiveSearchArgs['verdict'];
  }
  if (values.state !== undefined) {
    if (!STATES.includes(values.state))
      throw new UsageError(`Invalid --state "${values.state}": expected failed, redriven, resolved or purged`);
    search.state = values.state as ArchiveSearchArgs['state'];
  }
  if (values.until !== undefined) search.until = parseSince(values.until, now, '--until');
  if (values.error !== undefined) search.error = values.error;
  if (values.payload !== undefined) {
    let payload: unknown;
    try {
      payload = JSON.parse(values.payload);
    } catch {
      payload = undefined;
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      throw new UsageError(`Invalid --payload: expected a JSON object such as '{"user":"ada"}'`);
    search.payload = payload as Record<string, unknown>;
  }
  if (values.limit !== undefined) {
    const limit = /^\d+$/.test(values.limit) ? Number(values.limit) : NaN;
    if (!(limit >= 1 && limit <= 500)) throw new UsageError(`Invalid --limit "${values.limit}": expected 1 to 500`);
    search.limit = limit;
  }
  return search;
}

function parsePageSize(value: string | undefined): number {
  if (value === undefined) return 100;
  const size = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(size >= 1 && size <= 1000))
    throw new UsageError(`Invalid --page-size "${value}": expected a whole number from 1 to 1000`);
  return size;
}

/** `--since`: an ISO 8601 time, or an age (`90s`, `30m`, `12h`, `7d`) counted back from `now`. */
export function parseSince(value: string, now: Date, option = '--since'): Date {
  const age = AGE.exec(value);
  if (age) return new Date(now.getTime() - Number(age[1]) * (UNIT_MS[age[2] as string] as number));
  const time = ISO_TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `Invalid ${option} "${value}": expected an ISO 8601 time (2026-11-22T10:00:00Z) or an age like 30m, 12h, 7d`,
    );
  }
  return new Date(time);
}
