import { rmSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../schema/run-config.js';
import type { FinalProgress } from '../schema/eval-record.js';
import type { Dataset } from '../tasks/dataset.js';
import type { HostParams } from '../models/init.js';
import { progressMeasures } from '../spectra/progress.js';
import { cyclicStructure, residueTask } from '../spectra/residues.js';
import { checkpointPath, checkpointSteps, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { LogitTargets } from './logit-temperature.js';
import { ParameterEvaluator } from './eval/parameters.js';

/**
 * Nanda's protocol for the progress measures (docs/methods.md, "Progress measures"): restricted
 * and excluded loss over the whole run with the run's **final** key frequencies, which are known
 * only once it ends. The live measures use each evaluation's own key frequencies.
 *
 * Storage (why snapshots): the excluded loss is a cross-entropy over every training pair's own
 * logits, so no per-frequency summary of an evaluation can give it for another set of frequencies
 * later; only the parameters can. So a run of a residue task keeps a parameters-only snapshot
 * (no optimiser moments: a third of a checkpoint) at each of its spectrum evaluations and at its
 * last one, in `progress/` beside its checkpoints; when it ends, each snapshot's logits are
 * recomputed once and the two losses taken with the final key frequencies, and the snapshots are
 * deleted once the host has stored them. The space is held only while the run trains (quick preset: 21 × 0.22 MB; reference:
 * 31 × 0.9 MB), and the curve has the spectrum cadence (every 500 steps at the quick preset).
 */

/** Where a run's progress snapshots wait for its end. */
export function progressSnapshotDir(checkpointDir: string): string {
  return path.join(checkpointDir, 'progress');
}

/** Whether the evaluation at `step` keeps a snapshot: residue tasks, at spectrum evaluations and the run's last one. */
export function keepsProgressSnapshot(config: RunConfig, step: number, last: boolean): boolean {
  return residueTask(config.task) !== null && (last || step % config.spectrumEvery === 0);
}

export function saveProgressSnapshot(checkpointDir: string, step: number, params: HostParams): void {
  saveCheckpoint(checkpointPath(progressSnapshotDir(checkpointDir), step), { step, params, m: {}, v: {} });
}

/** Drop a run's snapshots (after its final progress is computed, or when it has none to compute). */
export function dropProgressSnapshots(checkpointDir: string): void {
  rmSync(progressSnapshotDir(checkpointDir), { recursive: true, force: true });
}

/**
 * The restricted and excluded loss at every snapshot up to `lastStep` with the key frequencies
 * `keyFreqs`, from the logits an evaluation at that step saw (temperature or logit target
 * included), computed on the thread's tfjs backend; `targets` are the run's own (norm-matched,
 * logit-matched). Snapshots past `lastStep` (left by an earlier
 * attempt that trained further before being resumed from an earlier checkpoint) are ignored.
 */
export async function finalProgress(
  config: RunConfig,
  dataset: Dataset,
  checkpointDir: string,
  lastStep: number,
  keyFreqs: number[],
  targets: { normTargets?: Float64Array; logitTargets?: LogitTargets } = {},
): Promise<FinalProgress | null> {
  const task = residueTask(config.task);
  if (!task || keyFreqs.length === 0) return null;
  const structure = cyclicStructure(task, dataset.task.order);
  const dir = progressSnapshotDir(checkpointDir);
  const rows: FinalProgress['rows'] = [];
  // A logit-matched run's logits are scaled to its target's scale, as its evaluations were.
  const evaluator = new ParameterEvaluator(config, dataset, targets.logitTargets ?? null);
  try {
    for (const step of checkpointSteps(dir).filter((s) => s <= lastStep)) {
      const { params } = loadCheckpoint(checkpointPath(dir, step));
      const logits = await evaluator.logits(params, step);
      const m = progressMeasures({ structure, classes: dataset.classes, logits, inputs: dataset.inputs, labels: dataset.labels, trainIndices: dataset.trainIndices, testIndices: dataset.testIndices, keyFreqs });
      rows.push({ step, restricted_loss: m.restricted_loss, excluded_loss: m.excluded_loss });
    }
  } finally {
    evaluator.dispose();
  }
  return { keyFreqs, rows };
}
