import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { checkpointSteps } from '../core/train/checkpoint.js';
import { finalProgress, progressSnapshotDir, saveProgressSnapshot } from '../core/train/final-progress.js';
import { executeRun } from '../core/runs/run-executor.js';
import { checkpointDirFor } from '../core/library/paths.js';
import { Library } from '../core/library/library.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { poolAndLibrary } from './helpers/pool.js';
import { scratchFolders } from './helpers/tmp.js';
import { normTrajectory } from './helpers/train.js';

/**
 * Nanda's protocol (core/train/final-progress.ts): the progress measures recomputed from a run's
 * parameter snapshots with one set of key frequencies. With the key frequencies an evaluation
 * used, they must give back that evaluation's own restricted and excluded loss (so the snapshot,
 * the logits as the evaluation saw them and the measure are the same), at every snapshot, with a
 * temperature, for a norm-matched run and on mod-mul too; through the pool, a completed run stores
 * them at its snapshot steps with the final key frequencies and its snapshots are dropped.
 */
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 60, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 25, backend: 'wasm' });
const scratch = scratchFolders(afterEach);

describe('progress measures from snapshots', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  for (const kind of ['plain', 'temperature 2', 'norm-matched', 'mod-mul'] as const) {
    it(`gives back each evaluation's own restricted and excluded loss with its key frequencies (${kind})`, async () => {
      const config = {
        ...tiny,
        seed: 4,
        ...(kind === 'temperature 2' ? { temperature: 2 } : kind === 'norm-matched' ? { condition: 'norm-matched' as const, normTargetRun: 'x' } : kind === 'mod-mul' ? { task: 'mod-mul' as const } : {}),
      };
      // A norm-matched run replays another run's ‖θ‖ (here seed 9's), and its trainer needs those targets.
      const targets = kind === 'norm-matched' ? { normTargets: await normTrajectory({ ...tiny, seed: 9 }, 40) } : {};
      const dataset = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
      const dir = scratch();
      const t = new Trainer(config, dataset, undefined, targets);
      const live: EvalRecord[] = [];
      try {
        for (let step = 0; step <= 40; step++) {
          if (step % 20 === 0) {
            live.push(await t.evaluate(false));
            saveProgressSnapshot(dir, step, t.snapshot().params);
          }
          if (step < 40) await t.trainStep();
        }
      } finally {
        t.dispose();
      }
      expect(checkpointSteps(progressSnapshotDir(dir))).toEqual([0, 20, 40]);
      for (const record of live) {
        const keyFreqs = record.progress!.key_freqs;
        const f = (await finalProgress(config, dataset, dir, 40, keyFreqs, targets))!;
        expect(f.keyFreqs).toEqual(keyFreqs);
        expect(f.rows.map((r) => r.step)).toEqual([0, 20, 40]);
        const row = f.rows.find((r) => r.step === record.step)!;
        expect(row.restricted_loss).toBeCloseTo(record.progress!.restricted_loss, 5);
        expect(row.excluded_loss).toBeCloseTo(record.progress!.excluded_loss, 5);
      }
      // Snapshots past the run's last step (an earlier attempt's) are not read.
      const upTo20 = (await finalProgress(config, dataset, dir, 20, [1, 2], targets))!;
      expect(upTo20.rows.map((r) => r.step)).toEqual([0, 20]);
      // Tasks without a residue structure have none.
      expect(await finalProgress({ ...config, task: 'mod-sq-sum' }, dataset, dir, 40, [1])).toBeNull();
    });
  }
});

describe('a completed run through the pool', () => {
  const ctx = poolAndLibrary(beforeAll, afterAll);

  it('stores the losses with its final key frequencies at its snapshot steps and drops the snapshots', async () => {
    const outcome = await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: { ...tiny, seed: 7 } });
    expect(outcome.status).toBe('completed');
    const metrics = await Library.with(ctx.dir, (lib) => lib.getMetrics(outcome.runId));
    const withFinal = metrics.filter((m) => m.scalars['progress_final/restricted_loss'] !== undefined);
    // Spectrum evaluations (every 20 steps) and the last one.
    expect(withFinal.map((m) => m.step)).toEqual([0, 20, 40, 60]);
    const last = metrics[metrics.length - 1];
    expect(last.step).toBe(60);
    // At the last step the final key frequencies are that evaluation's own: the same losses.
    const liveK = [1, 2, 3, 4, 5].map((k) => last.scalars[`progress/key_freq/${k}`]);
    expect([1, 2, 3, 4, 5].map((k) => last.scalars[`progress_final/key_freq/${k}`])).toEqual(liveK);
    expect(last.scalars['progress_final/restricted_loss']).toBeCloseTo(last.scalars['progress/restricted_loss'], 5);
    expect(last.scalars['progress_final/excluded_loss']).toBeCloseTo(last.scalars['progress/excluded_loss'], 5);
    for (const m of withFinal) {
      expect(Number.isFinite(m.scalars['progress_final/restricted_loss'])).toBe(true);
      expect(Number.isFinite(m.scalars['progress_final/excluded_loss'])).toBe(true);
    }
    const ckpt = checkpointDirFor(ctx.dir, outcome.runId);
    expect(existsSync(progressSnapshotDir(ckpt))).toBe(false);
    // The checkpoint due at 25 fell inside the update window of the evaluation at 30 and waited for it.
    expect(checkpointSteps(ckpt)).toEqual([30, 50, 60]);
  });
});
