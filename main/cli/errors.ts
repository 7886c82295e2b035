/** An error whose message is meant for the user as it is (one line, no stack). */
export class UserError extends Error {}

/** The one line the CLI prints for any failure. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim() || 'unknown error';
}
