import type { RunConfig } from '../schema/run-config.js';
import type { Dataset } from '../tasks/dataset.js';
import { makeDataset } from '../tasks/dataset.js';
import { Trainer, type TrainState } from './trainer.js';

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
 * (one WebGPU device for the worker's life, core/train/webgpu.ts).
 */
export interface GroupMember {
  config: RunConfig;
  /** A checkpoint to continue from. */
  state?: TrainState;
  /** norm-matched: the target ‖θ‖ after each step (index = step). */
  normTargets?: Float64Array;
}

/** The fields that must agree for runs to share a group (the computation's shape and schedule). */
export const GROUP_SHAPE_FIELDS = ['arch', 'task', 'p', 'trainFraction', 'dModel', 'nHeads', 'dMlp', 'steps', 'evalEvery', 'spectrumEvery', 'checkpointEvery', 'backend'] as const satisfies readonly (keyof RunConfig)[];

/** A key equal for exactly the configs that can share a group. */
export function groupShapeKey(config: RunConfig): string {
  return JSON.stringify(GROUP_SHAPE_FIELDS.map((f) => config[f]));
}

/** Why these configs cannot be one group, or null when they can. */
export function groupMismatch(configs: RunConfig[]): string | null {
  if (configs.length === 0) return 'a group needs at least one run';
  const first = configs[0];
  for (let i = 1; i < configs.length; i++) {
    const differing = GROUP_SHAPE_FIELDS.filter((f) => configs[i][f] !== first[f]);
    if (differing.length) return `run ${i + 1} differs from run 1 in ${differing.join(', ')}: a group shares its shape and schedule`;
  }
  return null;
}

export class RunGroup {
  readonly trainers: Trainer[];
  private readonly frozen: boolean[];

  constructor(members: GroupMember[], datasets?: Dataset[]) {
    const mismatch = groupMismatch(members.map((m) => m.config));
    if (mismatch) throw new Error(mismatch);
    this.trainers = [];
    try {
      members.forEach((m, i) => {
        const c = m.config;
        const dataset = datasets?.[i] ?? makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.splitSeed ?? c.seed });
        this.trainers.push(new Trainer(c, dataset, m.state, { normTargets: m.normTargets }));
      });
    } catch (err) {
      for (const t of this.trainers) t.dispose();
      throw err;
    }
    this.frozen = members.map(() => false);
  }

  get size(): number {
    return this.trainers.length;
  }

  freeze(i: number): void {
    this.frozen[i] = true;
  }

  isFrozen(i: number): boolean {
    return this.frozen[i];
  }

  /** Indices of the members still training. */
  active(): number[] {
    return this.trainers.map((_, i) => i).filter((i) => !this.frozen[i]);
  }

  /** One AdamW step of every member that is not frozen. */
  async trainStep(): Promise<void> {
    for (let i = 0; i < this.trainers.length; i++) if (!this.frozen[i]) await this.trainers[i].trainStep();
  }

  dispose(): void {
    for (const t of this.trainers) t.dispose();
  }
}
