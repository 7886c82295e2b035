import { describe, expect, it } from 'vitest';
import { LockstepMembers } from '../core/train/engine.js';

/**
 * The bookkeeping the stacked tfjs and WGSL engines share (core/train/engine.ts): a frozen member
 * keeps the step it froze at and gets no norms for later steps, and norms read back in a block
 * are handed to the members that were active at each step, in order.
 */
describe('lockstep members', () => {
  it('hands each member the norms of the steps it took, in order, and keeps a frozen one at its step', () => {
    const book = new LockstepMembers(3, 10);
    book.stepped(); // step 11: all three
    expect(book.freeze(1)).toBe(true);
    expect(book.freeze(1)).toBe(false);
    book.stepped(); // step 12: members 0 and 2
    expect(book.pendingSteps).toBe(2);
    // The engine's block: ‖θ‖ of member s after pending step k is 100·(k + 1) + s.
    const steps = book.detach();
    expect(book.pendingSteps).toBe(0);
    book.stepped(); // a step taken while the block is being read starts the next block
    book.handOut(steps, (k, s) => 100 * (k + 1) + s);
    expect(book.pendingSteps).toBe(1);
    book.handOut(book.detach(), () => 300);
    expect(book.pendingSteps).toBe(0);
    expect([0, 1, 2].map((i) => book.take(i))).toEqual([[100, 200, 300], [101], [102, 202, 300]]);
    expect([0, 1, 2].map((i) => book.take(i))).toEqual([[], [], []]);
    expect([0, 1, 2].map((i) => book.stepOf(i))).toEqual([13, 11, 13]);
    expect(book.active()).toEqual([0, 2]);
    expect(book.activeMask()).toEqual([true, false, true]);
  });
});
