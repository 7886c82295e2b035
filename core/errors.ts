/**
 * Errors a researcher sees. Every error class of ours extends GrokscopeError: its message is
 * written for the user and is one line. Anything else that is thrown (a native module, DuckDB,
 * the file system) may carry several lines or a stack, and reaches a user only through
 * `firstLine`, which every host uses for what it prints or sends.
 */
export class GrokscopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The first line of any thrown value's message, trimmed; what a user is shown. */
export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim() || 'unknown error';
}
