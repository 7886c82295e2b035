import type { RunConfig } from '../schema/run-config.js';
import type { Dataset } from '../tasks/dataset.js';
import { makeDataset } from '../tasks/dataset.js';
import { Trainer, type TrainState } from './trainer.js';
import { UPDATE_WINDOW, type EvalRecord } from '../schema/eval-record.js';
import { UpdateWindow, spectralEdgeGap } from '../spectra/spectral-edge.js';
import { groupMismatch, recordsUpdateGap, type GroupEngine, type GroupMember } from './engine.js';

/**
 * A run group: S runs of one shape trained together in one worker, each still its own run (its
 * parameters, AdamW moments, step count, evaluations and checkpoints). `trainStep` advances every
 * member that is not frozen; a frozen member (finished, early-stopped or asked to stop) gets no
 * update at all — no AdamW step, no weight decay — so its state stays bit-identical while the
 * others go on (test/run-group.test.ts).
 *
 * How members are computed depends on the backend (docs/backends.md, "Run groups"): on
 * `wasm+openblas` each member's step is the fused host step (host-transformer.ts, host-mlp.ts),
 * one after another — that step has no per-step overhead left to share, and its products already
 * run at the library's speed; elsewhere each member is a tfjs Trainer on the thread's one backend
 * (one WebGPU device for the worker's life, core/train/gpu/webgpu.ts).
 */
export class RunGroup implements GroupEngine {
  readonly trainers: Trainer[];
  readonly engine: string;
  private readonly frozen: boolean[];
  private readonly norms: number[][];
  /** Each member's last updates before its evaluations (null: not recorded for its config). */
  private readonly windows: (UpdateWindow | null)[];

  constructor(members: GroupMember[], datasets?: Dataset[]) {
    const mismatch = groupMismatch(members.map((m) => m.config));
    if (mismatch) throw new Error(mismatch);
    this.trainers = [];
    try {
      members.forEach((m, i) => {
        const c = m.config;
        const dataset = datasets?.[i] ?? makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.splitSeed ?? c.seed });
        this.trainers.push(new Trainer(c, dataset, m.state, { normTargets: m.normTargets, logitTargets: m.logitTargets }));
      });
    } catch (err) {
      for (const t of this.trainers) t.dispose();
      throw err;
    }
    this.frozen = members.map(() => false);
    this.norms = members.map(() => []);
    this.windows = this.trainers.map((t) => {
      if (!recordsUpdateGap(t.config)) return null;
      const size = Object.values(t.parameters).reduce((n, x) => n + x.data.length, 0);
      const w = new UpdateWindow(size, UPDATE_WINDOW, t.config.evalEvery, t.config.steps);
      w.observe(t.step, () => this.paramArrays(t));
      return w;
    });
    this.engine = this.trainers[0].fusedSteps ? 'fused host steps, run by run' : 'tfjs, run by run';
  }

  get size(): number {
    return this.trainers.length;
  }

  configOf(i: number): RunConfig {
    return this.trainers[i].config;
  }

  stepOf(i: number): number {
    return this.trainers[i].step;
  }

  freeze(i: number): void {
    this.frozen[i] = true;
  }

  isFrozen(i: number): boolean {
    return this.frozen[i];
  }

  active(): number[] {
    return this.trainers.map((_, i) => i).filter((i) => !this.frozen[i]);
  }

  async trainStep(): Promise<void> {
    for (let i = 0; i < this.trainers.length; i++) {
      if (this.frozen[i]) continue;
      const t = this.trainers[i];
      await t.trainStep();
      this.norms[i].push(t.weightNorm);
      this.windows[i]?.observe(t.step, () => this.paramArrays(t));
    }
  }

  async takeNorms(i: number): Promise<number[]> {
    return this.norms[i].splice(0);
  }

  async evaluate(indices: number[], withSpectra: boolean): Promise<EvalRecord[]> {
    const out: EvalRecord[] = [];
    for (const i of indices) {
      const record = await this.trainers[i].evaluate(withSpectra);
      const gram = this.windows[i]?.gram(this.trainers[i].step);
      const edge = gram ? spectralEdgeGap(gram, UPDATE_WINDOW) : null;
      if (edge) record.update_edge = edge;
      out.push(record);
    }
    return out;
  }

  async snapshot(i: number): Promise<TrainState> {
    return this.trainers[i].snapshot();
  }

  private paramArrays(t: Trainer): Float32Array[] {
    return Object.values(t.parameters).map((x) => x.data);
  }

  dispose(): void {
    for (const t of this.trainers) t.dispose();
  }
}
