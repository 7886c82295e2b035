import { setMaxListeners } from 'node:events';

/**
 * Ctrl-C for a long CLI command, written once: the first press aborts the returned signal (after
 * saying what happens next, when `message` is given); a second press quits at once with exit code
 * 130 unless `quitOnSecond` is false. `release()` removes the handler; call it in a finally.
 */
export function interruptible(message: string | null, quitOnSecond = true): { signal: AbortSignal; release: () => void } {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // every run of a study or group listens to it
  const onSigint = (): void => {
    if (abort.signal.aborted && quitOnSecond) process.exit(130);
    if (message && !abort.signal.aborted) process.stderr.write(`\n${message}\n`);
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: abort.signal, release: () => process.off('SIGINT', onSigint) };
}
