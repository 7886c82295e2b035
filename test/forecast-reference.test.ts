import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Library } from '../core/library/library.js';
import { PRESETS, type RunConfig } from '../core/schema/run-config.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { GrokscopeService } from '../core/service/service.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The live forecast's reference runs are of the target's setting: every configuration field but
 * the seed. Weight-decay-0 baselines of the same task and size are no reference for a
 * weight-decay-1 run (they used to be: only task, arch, p, widths and train fraction were compared).
 */
const tmp = tempDir();
const dir = path.join(tmp.dir, 'lib');

/** H̃ falls linearly through 0.61 exactly 1,000 steps before grokking (test/live-forecast.test.ts). */
function records(tGrok: number, slope: number, until: number): EvalRecord[] {
  const out: EvalRecord[] = [];
  for (let step = 0; step <= until; step += 50) {
    const h = Math.min(0.9, Math.max(0.3, 0.61 + slope * (tGrok - 1000 - step)));
    out.push({ step, train_loss: 0.1, train_acc: step >= 100 ? 1 : 0.5, test_loss: 1, test_acc: step >= tGrok ? 1 : 0.1, weight_norm: 10, tensor_norms: {}, probes: { 'resid.final': { entropy: h, eff_rank: 5, top5_share: 0.5 } }, fourier: null });
  }
  return out;
}

beforeAll(async () => {
  await Library.with(dir, async (lib) => {
    const make = async (id: string, over: Partial<RunConfig>, recs: EvalRecord[], status: 'completed' | 'running'): Promise<void> => {
      await lib.createRun({ ...PRESETS.fast, steps: 8000, ...over }, { node: process.version }, id);
      await lib.appendEvals(id, recs);
      await lib.updateRun(id, { status });
    };
    const slopes = [0.00018, 0.00022, 0.0002, 0.00024];
    for (let s = 0; s < 4; s++) await make(`wd1-${s}`, { seed: s }, records(3000 + 500 * s, slopes[s], 6000), 'completed');
    for (let s = 0; s < 3; s++) await make(`wd0-${s}`, { seed: s, weightDecay: 0 }, records(7000, 0.0001, 8000), 'completed');
    await make('live', { seed: 9 }, records(4200, 0.0002, 2000), 'running');
  });
});
afterAll(() => tmp.cleanup());

describe('the live forecast’s reference runs', () => {
  it('are the completed baselines of the same setting, and the forecast judges at the configured H̃*', async () => {
    const run = await new GrokscopeService(dir, null).getRun('live');
    expect(run.threshold).toMatchObject({ value: 0.61, source: 'configured' });
    expect(run.forecast).not.toBeNull();
    expect(run.forecast!.referenceRuns).toBe(4);
    expect(run.forecast!.threshold).toBe(0.61);
  });
});
