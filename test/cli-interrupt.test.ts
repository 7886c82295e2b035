import { afterEach, describe, expect, it, vi } from 'vitest';
import { interruptible } from '../main/cli/interrupt.js';

/** The CLI's one Ctrl-C handler (main/cli/interrupt.ts), driven by emitting SIGINT in-process. */
describe('interruptible', () => {
  afterEach(() => vi.restoreAllMocks());

  it('aborts on the first Ctrl-C, says what happens next once, and is gone after release', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const before = process.listenerCount('SIGINT');
    const stop = interruptible('stopping after the current step…');
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    expect(stop.signal.aborted).toBe(false);
    process.emit('SIGINT');
    expect(stop.signal.aborted).toBe(true);
    expect(write.mock.calls.map((c) => String(c[0]))).toEqual(['\nstopping after the current step…\n']);
    process.emit('SIGINT'); // a second press quits at once
    expect(exit).toHaveBeenCalledWith(130);
    stop.release();
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('only aborts, silently and without quitting, when asked so (the reproduce command)', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stop = interruptible(null, false);
    process.emit('SIGINT');
    process.emit('SIGINT');
    expect(stop.signal.aborted).toBe(true);
    expect(write).not.toHaveBeenCalled();
    expect(exit).not.toHaveBeenCalled();
    stop.release();
  });
});
