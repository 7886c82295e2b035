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

/**
 * Whether a failed write ran out of room: no space on the device (ENOSPC), over a quota
 * (EDQUOT), or over the process's file-size limit (EFBIG, `ulimit -f`), by Node's error code or
 * by DuckDB's wording of the same errors ("Could not write file …: No space left on device").
 */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return true;
  return /No space left on device|Disk quota exceeded|File too large/i.test(firstLine(err));
}

/** The one line for a write that ran out of room, naming what could not be written. */
export function outOfSpaceMessage(what: string, err: unknown): string {
  return `cannot write ${what}: no room left (${firstLine(err)}) — the disk is full, a quota is used up or a file-size limit (ulimit -f) was reached; free space and try again`;
}
