import type { RunConfig } from '../schema/run-config.js';
import { UPDATE_WINDOW, type EvalRecord } from '../schema/eval-record.js';
import type { TrainState } from './trainer.js';
import type { LogitTargets } from './logit-temperature.js';

/**
 * What every engine of a run group is (the contract): the members it trains, the interface the
 * training loop (loop.ts) drives, and the rules of who may share a group. Its own module so that
 * the engines (run-group.ts, tfjs/stacked-group.ts, gpu/wgsl-group.ts) and the factory
 * (group-engine.ts) import the contract, not a sibling engine.
 */
export interface GroupMember {
  config: RunConfig;
  /** A checkpoint to continue from. */
  state?: TrainState;
  /** norm-matched: the target ‖θ‖ after each step (index = step). */
  normTargets?: Float64Array;
  /** logit-matched: the mix run's logit scale at its evaluations. */
  logitTargets?: LogitTargets;
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

/**
 * What the worker drives: a run group, however its members are computed. Members are indexed
 * 0…size−1; a frozen member gets no update and no evaluation.
 */
export interface GroupEngine {
  readonly size: number;
  /** How the members are computed, for the run's backend note. */
  readonly engine: string;
  /**
   * Whether a one-run group's backend note names the engine too: where the engine is not what
   * the backend's name says (the WGSL engine on `webgpu`, which tfjs would otherwise stand for).
   */
  readonly namesEngine?: boolean;
  configOf(i: number): RunConfig;
  stepOf(i: number): number;
  active(): number[];
  freeze(i: number): void;
  /** One AdamW step of every member that is not frozen. */
  trainStep(): Promise<void>;
  /** ‖θ‖ of member i after each of its steps since the last call. */
  takeNorms(i: number): Promise<number[]>;
  /**
   * Evaluations of these members at their current parameters; with the spectral-edge gap
   * (`update_edge`) where the engine kept the window of updates before this step whole.
   */
  evaluate(indices: number[], withSpectra: boolean): Promise<EvalRecord[]>;
  /** A host copy of member i's training state (for checkpoints). */
  snapshot(i: number): Promise<TrainState>;
  dispose(): void;
}

/** Whether runs of this config record the spectral-edge gap: evaluations at least a window apart, so that windows never overlap. */
export function recordsUpdateGap(config: RunConfig): boolean {
  return config.evalEvery >= UPDATE_WINDOW;
}


/**
 * The per-member bookkeeping of an engine that steps its members together (the stacked tfjs and
 * the WGSL engines), written once: the shared step, who is frozen and since which step, and each
 * member's ‖θ‖ after each of its steps — each step noted with who was active at it, the norms
 * handed out per member when the engine has read them (from its device, in blocks).
 */
export class LockstepMembers {
  readonly frozen: boolean[];
  private readonly frozenAt: number[];
  /** Who was active at each step whose norms are not handed out yet. */
  private pending: boolean[][] = [];
  private readonly taken: number[][];

  constructor(
    size: number,
    public step: number,
  ) {
    this.frozen = Array.from({ length: size }, () => false);
    this.frozenAt = Array.from({ length: size }, () => step);
    this.taken = Array.from({ length: size }, () => []);
  }

  stepOf(i: number): number {
    return this.frozen[i] ? this.frozenAt[i] : this.step;
  }

  active(): number[] {
    return this.frozen.flatMap((f, i) => (f ? [] : [i]));
  }

  activeMask(): boolean[] {
    return this.frozen.map((f) => !f);
  }

  /** Freezes member i at the current step; false when it already was frozen. */
  freeze(i: number): boolean {
    if (this.frozen[i]) return false;
    this.frozen[i] = true;
    this.frozenAt[i] = this.step;
    return true;
  }

  /** The active members took one step (its norms still on the engine's side). */
  stepped(): void {
    this.pending.push(this.activeMask());
    this.step++;
  }

  /** Steps whose norms are not handed out yet. */
  get pendingSteps(): number {
    return this.pending.length;
  }

  /**
   * The pending steps, taken out (call before awaiting the engine's read, so that a step taken
   * meanwhile starts a new block), to hand their norms out with `handOut`.
   */
  detach(): boolean[][] {
    const steps = this.pending;
    this.pending = [];
    return steps;
  }

  /** Hands out detached steps' norms: `valueAt(k, s)` is member s's ‖θ‖ after detached step k. */
  handOut(steps: boolean[][], valueAt: (k: number, s: number) => number): void {
    steps.forEach((active, k) => {
      active.forEach((on, s) => {
        if (on) this.taken[s].push(valueAt(k, s));
      });
    });
  }

  /** Member i's norms handed out since the last call. */
  take(i: number): number[] {
    return this.taken[i].splice(0);
  }
}
