import type { LiveEvent } from '../api.js';
import { AntiGrokDetector, WarningDetector } from '../analysis/events.js';
import type { RunProgress } from '../runs/run-executor.js';
import type { RunConfig } from '../schema/run-config.js';
import type { StudyRunHooks } from '../study/runner.js';
import { pointFromRecord } from './points.js';

/** Progress events at most this often (the last one always): a renderer redraws on each. */
export const PROGRESS_EVERY_MS = 250;

/**
 * The live events of one training run, from its progress reports: `run-grokked`, `run-crossed`
 * and `run-anti-grokking` once each, at the steps T_grok, T_cross and T_anti will have (by the
 * rules of analysis/events.ts), and `run-progress` throttled to PROGRESS_EVERY_MS.
 */
export function liveRunEvents(config: RunConfig, emit: (e: LiveEvent) => void, now: () => number = Date.now): (p: RunProgress) => void {
  let lastEmit = -Infinity;
  let grokked = false;
  // The one definition of a warning (from T_mem on): the live event names the step the stored T_cross will have.
  const crossing = new WarningDetector(config.entropyThreshold, config.crossPersistence, config.memThreshold);
  const anti = new AntiGrokDetector(config.grokThreshold, config.crossPersistence);
  return (p) => {
    const r = p.latest;
    if (r && !grokked && r.test_acc >= config.grokThreshold) {
      grokked = true;
      emit({ type: 'run-grokked', id: p.runId, step: r.step });
    }
    const crossedAt = r ? crossing.push(r.step, r.train_acc, r.probes[config.probe]?.entropy) : null;
    if (crossedAt !== null) emit({ type: 'run-crossed', id: p.runId, step: crossedAt, threshold: config.entropyThreshold });
    const fellAt = r ? anti.push(r.step, r.test_acc) : null;
    if (fellAt !== null) emit({ type: 'run-anti-grokking', id: p.runId, step: fellAt, testAcc: r!.test_acc });
    const t = now();
    if (t - lastEmit < PROGRESS_EVERY_MS && p.step < p.totalSteps) return;
    lastEmit = t;
    emit({
      type: 'run-progress',
      id: p.runId,
      step: p.step,
      totalSteps: p.totalSteps,
      stepsPerSecond: p.stepsPerSecond,
      etaSeconds: p.stepsPerSecond ? (p.totalSteps - p.step) / p.stepsPerSecond : null,
      backend: p.backend,
      latest: r ? pointFromRecord(r) : null,
    });
  };
}

/**
 * The live events of a study's runs trained in this host's pool (runner.ts StudyRunHooks): each
 * run's progress, grokking and crossing as liveRunEvents gives them for a run started alone, its
 * progress and end naming the study. `close` ends what is still open when the study ends (a run
 * group that failed as a whole reports no run's end), so no run stays "training" in a view.
 */
export function studyRunEvents(study: string, emit: (e: LiveEvent) => void): StudyRunHooks & { close(): void } {
  const open = new Map<string, (p: RunProgress) => void>();
  return {
    progress(config, p) {
      let handler = open.get(p.runId);
      if (!handler) {
        handler = liveRunEvents(config, (e) => emit(e.type === 'run-progress' ? { ...e, study } : e));
        open.set(p.runId, handler);
      }
      handler(p);
    },
    end(runId, status, error) {
      if (!open.delete(runId)) return;
      emit({ type: 'run-finished', id: runId, status, error, study });
    },
    close() {
      for (const id of open.keys()) emit({ type: 'run-finished', id, status: 'failed', error: 'its run group ended without a result', study });
      open.clear();
    },
  };
}
