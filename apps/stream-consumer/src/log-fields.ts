/** The parts of an error worth a log line (no stack on every retry). */
export function brief(err: unknown): { name: string; message: string; code?: unknown } {
  if (!(err instanceof Error)) return { name: 'NonError', message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(code === undefined ? {} : { code }) };
}
