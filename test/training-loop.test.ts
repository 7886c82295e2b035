import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import type { GroupEngine } from '../core/train/engine.js';
import type { TrainState } from '../core/train/trainer.js';
import { runTrainingLoop, type LoopEvent, type LoopMember } from '../core/train/loop.js';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../core/train/checkpoint.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The training loop (core/train/loop.ts) without a worker pool or a model: a scripted engine whose
 * test accuracy per member and step is given, so that the evaluation cadence, full spectra, early
 * stop, checkpoints deferred out of an update window, stop requests and a resumed member's
 * spectral-edge gap can be checked step by step.
 */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const base = parseRunConfig({ ...PRESETS.fast, task: 's5', steps: 60, evalEvery: 20, spectrumEvery: 40, checkpointEvery: 15, earlyStopEvals: 0 });

/** A group engine whose members' test accuracy is `acc(i, step)`; ‖θ‖ after step t is t. */
class ScriptedEngine implements GroupEngine {
  readonly engine = 'scripted';
  readonly frozen: boolean[];
  readonly steps: number[];
  readonly norms: number[][];
  readonly evaluated: { i: number; step: number; spectra: boolean }[] = [];

  constructor(
    readonly configs: RunConfig[],
    private readonly acc: (i: number, step: number) => number,
    start: number[] = configs.map(() => 0),
  ) {
    this.frozen = configs.map(() => false);
    this.steps = [...start];
    this.norms = configs.map(() => []);
  }

  get size(): number {
    return this.configs.length;
  }
  configOf(i: number): RunConfig {
    return this.configs[i];
  }
  stepOf(i: number): number {
    return this.steps[i];
  }
  active(): number[] {
    return this.configs.map((_, i) => i).filter((i) => !this.frozen[i]);
  }
  freeze(i: number): void {
    this.frozen[i] = true;
  }
  async trainStep(): Promise<void> {
    for (const i of this.active()) this.norms[i].push(++this.steps[i]);
  }
  async takeNorms(i: number): Promise<number[]> {
    return this.norms[i].splice(0);
  }
  async evaluate(indices: number[], withSpectra: boolean): Promise<EvalRecord[]> {
    return indices.map((i) => {
      this.evaluated.push({ i, step: this.steps[i], spectra: withSpectra });
      return { step: this.steps[i], test_acc: this.acc(i, this.steps[i]), train_acc: 1, ...(withSpectra ? { spectra: {} } : {}) } as unknown as EvalRecord;
    });
  }
  async snapshot(i: number): Promise<TrainState> {
    return { step: this.steps[i], params: { w: { data: Float32Array.of(this.steps[i]), shape: [1] } }, m: {}, v: {} };
  }
  dispose(): void {}
}

/** Runs the loop; returns every member's events in order. */
async function drive(engine: ScriptedEngine, members: LoopMember[], stop: (i: number, step: number) => boolean = () => false) {
  const events: LoopEvent[][] = members.map(() => []);
  let clock = 0;
  const results = await runTrainingLoop(engine, members, {
    emit: (i, e) => events[i].push(e),
    stopRequested: (i) => stop(i, engine.stepOf(i)),
    finalProgress: async () => null,
    now: () => (clock += 100),
  });
  return { results, events };
}

const of = <T extends LoopEvent['type']>(events: LoopEvent[], type: T) => events.filter((e): e is Extract<LoopEvent, { type: T }> => e.type === type);

describe('the training loop', () => {
  it('evaluates on the cadence with spectra where due, sends every norm once, and checkpoints outside update windows', async () => {
    const dir = path.join(tmp.dir, 'cadence');
    const engine = new ScriptedEngine([base], () => 0.1);
    const { results, events } = await drive(engine, [{ checkpointDir: dir }]);
    const evals = of(events[0], 'eval').map((e) => e.record.step);
    expect(evals).toEqual([0, 20, 40, 60]);
    expect(engine.evaluated.filter((e) => e.spectra).map((e) => e.step)).toEqual([0, 40, 60]);
    // ‖θ‖ after steps 1…60, each once, in order.
    expect(of(events[0], 'norms').flatMap((e) => e.norms.map((_, k) => e.fromStep + k))).toEqual(Array.from({ length: 60 }, (_, k) => k + 1));
    // Due after 15 (inside the window 11–20 of the evaluation at 20): written at 20; 30 and 45 lie outside a window; 60 is the end.
    expect(of(events[0], 'checkpoint').map((e) => e.step)).toEqual([20, 30, 45, 60]);
    expect(results).toEqual([{ status: 'completed', step: 60, checkpoint: checkpointPath(dir, 60), finalProgress: null }]);
    expect(events[0].at(-1)).toEqual({ type: 'ended', result: results[0] });
    expect(of(events[0], 'progress').length).toBeGreaterThan(0);
  });

  it('early-stops a member after its run of solved evaluations, with full spectra at its last, while the others go on', async () => {
    const configs = [base, { ...base, seed: 1, earlyStopEvals: 2 }];
    const engine = new ScriptedEngine(configs, (i, step) => (i === 1 && step >= 40 ? 0.99 : 0.2));
    const { results } = await drive(engine, configs.map((_, i) => ({ checkpointDir: path.join(tmp.dir, `early-${i}`) })));
    expect(results.map((r) => [r.status, r.step])).toEqual([['completed', 60], ['completed', 60]]);
    // Member 1 solved at 40 and 60: 60 is its end, not an early stop. Now one that stops between spectra.
    const quick = [base, { ...base, seed: 1, earlyStopEvals: 1 }];
    const early = new ScriptedEngine(quick, (i, step) => (i === 1 && step >= 20 ? 0.99 : 0.2));
    const { results: stopped } = await drive(early, quick.map((_, i) => ({ checkpointDir: path.join(tmp.dir, `early-${i}`) })));
    expect(stopped.map((r) => [r.status, r.step])).toEqual([['completed', 60], ['completed', 20]]);
    // Solved at 20 (no spectra due there): re-evaluated at 20 with spectra for its last record; never stepped past it.
    expect(early.evaluated.filter((e) => e.i === 1).map((e) => [e.step, e.spectra])).toEqual([[0, true], [20, false], [20, true]]);
    expect(early.stepOf(1)).toBe(20);
    expect(loadCheckpoint(checkpointPath(path.join(tmp.dir, 'early-1'), 20)).step).toBe(20);
  });

  it('holds a stop request inside an update window until the evaluation that closes it, then checkpoints and stops', async () => {
    const configs = [base, { ...base, seed: 1 }];
    const engine = new ScriptedEngine(configs, () => 0.1);
    const { results, events } = await drive(engine, configs.map((_, i) => ({ checkpointDir: path.join(tmp.dir, `stop-${i}`) })), (i, step) => i === 1 && step >= 13);
    expect(results[1]).toEqual({ status: 'stopped', step: 20, checkpoint: checkpointPath(path.join(tmp.dir, 'stop-1'), 20) });
    expect(of(events[1], 'eval').map((e) => e.record.step)).toEqual([0, 20]);
    expect(results[0].status).toBe('completed');
    // A step budget (stopAtStep) outside a window stops at once.
    const alone = new ScriptedEngine([base], () => 0.1);
    const { results: budget } = await drive(alone, [{ checkpointDir: path.join(tmp.dir, 'budget'), stopAtStep: 30 }]);
    expect(budget).toEqual([{ status: 'stopped', step: 30, checkpoint: checkpointPath(path.join(tmp.dir, 'budget'), 30) }]);
  });

  it('gives a resumed member’s re-evaluation the gap its checkpoint carried, and counts solved evaluations on from it', async () => {
    const dir = path.join(tmp.dir, 'resumed');
    const file = checkpointPath(dir, 20);
    saveCheckpoint(file, { step: 20, params: { w: { data: Float32Array.of(20), shape: [1] } }, m: {}, v: {} });
    const config = { ...base, earlyStopEvals: 2 };
    const engine = new ScriptedEngine([config], () => 0.99, [20]);
    const edge = { gap: 3.5, k: 2 };
    const { results, events } = await drive(engine, [{ checkpointDir: dir, resumed: { file, step: 20, solvedEvals: 1, updateEdge: edge } }]);
    const evals = of(events[0], 'eval');
    expect(evals[0].record.step).toBe(20);
    expect(evals[0].record.update_edge).toEqual(edge);
    // One solved evaluation before the checkpoint, one at 20 (re-done): early stop at 20, no new checkpoint there.
    expect(results).toEqual([{ status: 'completed', step: 20, checkpoint: file, finalProgress: null }]);
    expect(of(events[0], 'checkpoint')).toEqual([]);
  });
});
