import { afterEach, describe, expect, it } from 'vitest';
import { PRESETS } from '../core/schema/run-config.js';
import { loadNormTargets } from '../core/runs/run-executor.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { scratchFolders } from './helpers/tmp.js';

const scratch = scratchFolders(afterEach);

describe('norm-matched targets', () => {
  it('replay the mix run step by step, and refuse a mix run shorter than the control', async () => {
    const t = { dir: scratch() };
    // The fixture mix run recorded ‖θ‖ = 10 + s/3 for steps 0..60 and completed.
    const mix = await makeFixtureRun(t.dir, { id: 'mix', config: { condition: 'mix' } });
    const norms = (await loadNormTargets(t.dir, { ...PRESETS.fast, steps: 60, condition: 'norm-matched' as const, normTargetRun: mix }))!;
    expect(norms.length).toBe(61);
    expect(norms[30]).toBeCloseTo(20, 12);
    expect(norms[60]).toBeCloseTo(30, 12);
    // No extrapolation past the mix run's last step (holding its norm would clamp the control).
    const longer = { ...PRESETS.fast, steps: 100, condition: 'norm-matched' as const, normTargetRun: mix };
    await expect(loadNormTargets(t.dir, longer)).rejects.toThrow(/has no weight norm for step 61 \(it ran 60 of 100 steps and is completed\)/);
  });
});
