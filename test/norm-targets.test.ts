import { afterEach, describe, expect, it } from 'vitest';
import { PRESETS } from '../core/config.js';
import { Library } from '../core/library/library.js';
import { loadNormTargets } from '../core/train/run-executor.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { tempDir } from './helpers/tmp.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('norm-matched targets', () => {
  it('replay the mix run step by step, then hold its final norm when it stopped early', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    // The fixture mix run recorded ‖θ‖ = 10 + s/3 for steps 0..60 and completed.
    const mix = await makeFixtureRun(t.dir, { id: 'mix', config: { condition: 'mix' } });
    const config = { ...PRESETS.quick, steps: 100, condition: 'norm-matched' as const, normTargetRun: mix };
    const norms = (await loadNormTargets(t.dir, config))!;
    expect(norms.length).toBe(101);
    expect(norms[30]).toBeCloseTo(20, 12);
    expect(norms[60]).toBeCloseTo(30, 12);
    expect(Array.from(norms.subarray(61))).toEqual(new Array(40).fill(norms[60]));
    // A mix run that did not complete gives no licence to extrapolate.
    await Library.with(t.dir, (l) => l.updateRun(mix, { status: 'stopped' }));
    await expect(loadNormTargets(t.dir, config)).rejects.toThrow(/has no weight norm for step 61 \(it ran 60 of 100 steps and is stopped\)/);
  });
});
