/** Thrown for an empty or malformed `DATABASE_URL`; the message names the problem and never the password. */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

/** The parts of a Postgres URL this project needs. */
export interface DatabaseUrlParts {
  /** The database name from the path. */
  database: string;
  /** The URL with its path pointed at another database on the same server. */
  withDatabase(name: string): string;
  /** `host:port/database`, safe to log. */
  display: string;
}

/** Validates a Postgres URL and returns its parts. */
export function parseDatabaseUrl(url: string | undefined): DatabaseUrlParts {
  if (!url || url.trim() === '') throw new DatabaseUrlError('DATABASE_URL is empty');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError('DATABASE_URL is not a valid URL (expected postgres://user@host:5432/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseUrlError(`DATABASE_URL must start with postgres:// (got ${parsed.protocol}//)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new DatabaseUrlError('DATABASE_URL must name a database in its path (postgres://host:5432/<database>)');
  }
  return {
    database,
    withDatabase(name) {
      const copy = new URL(url);
      copy.pathname = `/${encodeURIComponent(name)}`;
      return copy.toString();
    },
    display: `${parsed.hostname}:${parsed.port || '5432'}/${database}`,
  };
}
