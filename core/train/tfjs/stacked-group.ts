import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../schema/run-config.js';
import type { EvalRecord } from '../../schema/eval-record.js';
import { makeDataset, type Dataset } from '../../tasks/dataset.js';
import { initParamsFor, type HostParams } from '../../models/init.js';
import { makeHeadMatrices } from './forward.js';
import { crossEntropyPerRun, forwardStacked, type StackedBatch, type StackedContext } from './forward-stacked.js';
import { adamwStacked, byRun, normSquares, stackedMix } from './stacked-update.js';
import { groupMismatch, LockstepMembers, type GroupEngine, type GroupMember } from '../engine.js';
import { modelConfigOf, type TrainState } from '../trainer.js';
import { eigenvaluesHere } from '../eval/eigen.js';
import { evaluateStacked } from './stacked-eval.js';
import { usesTemperature } from '../logit-temperature.js';

/**
 * A run group as one computation (the stacked engine): every parameter and AdamW moment is one
 * tfjs variable with a leading run axis [S, …]; a step is one forward and backward pass over all
 * runs (tfjs/forward-stacked.ts; the loss is the sum of the runs' mean losses, so each slice
 * gets its own run's gradient) and one AdamW update of every tensor, on the device, with no read
 * back to the host: the per-step ‖θ‖ stay on the device until the worker takes them at an
 * evaluation. Per run: seed (initialisation and split), condition (an orthogonal mix with its own
 * rotations; norm-matched with its own targets), lr and weight decay. A frozen run is left exactly
 * as it was (tf.where keeps its slice of every parameter and moment).
 *
 * For device backends (webgpu, tensorflow), where a step costs per dispatch and per host read: the
 * number of dispatches a step takes no longer grows with the number of runs. Tested against runs
 * trained alone (test/stacked-group.test.ts). Members must start at the same step and share
 * β₁, β₂ and ε; the entropy-penalty mix is not stacked (StackedGroup.refusal says so and the
 * group is trained member by member instead).
 */
export class StackedGroup implements GroupEngine {
  readonly engine = 'stacked: one computation for the whole group';
  readonly size: number;
  private readonly configs: RunConfig[];
  private readonly datasets: Dataset[];
  private readonly names: string[];
  private readonly shapes: Record<string, number[]>;
  private readonly params: Record<string, tf.Variable>;
  private readonly m: Record<string, tf.Variable>;
  private readonly v: Record<string, tf.Variable>;
  private readonly ctx: StackedContext;
  private readonly train: StackedBatch;
  private readonly trainLabels: tf.Tensor3D;
  /** Per run, as [S] tensors: lr, and 1 − lr·wd. */
  private readonly lr: Float64Array;
  private readonly decay: Float64Array;
  private readonly normTargets: (Float64Array | undefined)[];
  /** The shared step, who is frozen, and the per-step norms handed out per member (engine.ts). */
  private readonly book: LockstepMembers;
  private activeMask: tf.Tensor1D;
  /** ‖θ‖ per run after each step not yet handed out ([S] on the device; the book knows who was active). */
  private pendingNorms: tf.Tensor1D[] = [];
  private readonly eigenvalues = eigenvaluesHere();
  private readonly allBatches = new Map<number, StackedBatch>();
  private disposed = false;

  /** Why these members cannot be stacked, or null when they can. */
  static refusal(members: GroupMember[]): string | null {
    const configs = members.map((m) => m.config);
    const mismatch = groupMismatch(configs);
    if (mismatch) return mismatch;
    const c0 = configs[0];
    if (configs.some((c) => c.condition === 'mix' && c.mixForm === 'entropy-penalty' && c.mixStrength > 0)) return 'the entropy-penalty mix is not stacked';
    if (configs.some(usesTemperature)) return 'output temperatures (logit-matched runs, a fixed temperature) are not stacked';
    if (configs.some((c) => c.beta1 !== c0.beta1 || c.beta2 !== c0.beta2 || c.eps !== c0.eps)) return 'runs differ in β₁, β₂ or ε';
    const steps = new Set(members.map((m) => m.state?.step ?? 0));
    if (steps.size > 1) return `runs resume from different steps (${[...steps].join(', ')})`;
    return null;
  }

  constructor(members: GroupMember[], datasets?: Dataset[]) {
    const refusal = StackedGroup.refusal(members);
    if (refusal) throw new Error(`cannot stack this group: ${refusal}`);
    this.size = members.length;
    this.configs = members.map((m) => m.config);
    const c0 = this.configs[0];
    this.datasets = this.configs.map((c, i) => datasets?.[i] ?? makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.splitSeed ?? c.seed }));
    const ds0 = this.datasets[0];
    const model = modelConfigOf(c0);
    const states: TrainState[] = members.map((m) => {
      if (m.state) return m.state;
      const params = initParamsFor(m.config, model, ds0.vocab, ds0.classes);
      const zeros = (): HostParams => Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(t.data.length) }]));
      return { step: 0, params, m: zeros(), v: zeros() };
    });
    this.book = new LockstepMembers(members.length, states[0].step);
    this.names = Object.keys(states[0].params);
    this.shapes = Object.fromEntries(this.names.map((n) => [n, states[0].params[n].shape]));
    const stack = (part: 'params' | 'm' | 'v', name: string, trainable: boolean): tf.Variable => {
      const size = states[0][part][name].data.length;
      const flat = new Float32Array(this.size * size);
      states.forEach((s, i) => flat.set(s[part][name].data, i * size));
      return tf.variable(tf.tensor(flat, [this.size, ...this.shapes[name]]), trainable);
    };
    this.params = Object.fromEntries(this.names.map((n) => [n, stack('params', n, true)]));
    this.m = Object.fromEntries(this.names.map((n) => [n, stack('m', n, false)]));
    this.v = Object.fromEntries(this.names.map((n) => [n, stack('v', n, false)]));
    this.ctx = { model, runs: this.size, vocab: ds0.vocab, eqToken: ds0.eqToken, order: ds0.task.order };
    if (model.arch === 'transformer') Object.assign(this.ctx, makeHeadMatrices(model));
    // Each run's own split: its training pairs, tokens offset into the flattened tables.
    const n = ds0.trainIndices.length;
    const ia = new Int32Array(this.size * n);
    const ib = new Int32Array(this.size * n);
    const labels = new Int32Array(this.size * n);
    this.datasets.forEach((ds, s) => {
      if (ds.trainIndices.length !== n) throw new Error('runs of a stacked group need training sets of one size');
      ds.trainIndices.forEach((row, k) => {
        ia[s * n + k] = ds.inputs[row * 3] + s * ds.vocab;
        ib[s * n + k] = ds.inputs[row * 3 + 1] + s * ds.vocab;
        labels[s * n + k] = ds.labels[row];
      });
    });
    this.train = { ia: tf.tensor1d(ia, 'int32'), ib: tf.tensor1d(ib, 'int32'), n };
    this.trainLabels = tf.tidy(() => tf.reshape(tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), ds0.classes), 'float32'), [this.size, n, ds0.classes]) as tf.Tensor3D);
    this.lr = Float64Array.from(this.configs, (c) => c.lr);
    this.decay = Float64Array.from(this.configs, (c) => 1 - c.lr * c.weightDecay);
    this.normTargets = members.map((m) => m.normTargets);
    this.configs.forEach((c, i) => {
      if (c.condition === 'norm-matched' && !this.normTargets[i]) throw new Error('a norm-matched run needs the target weight-norm trajectory');
    });
    this.activeMask = tf.tensor1d(this.book.activeMask(), 'bool') as tf.Tensor1D;
  }

  configOf(i: number): RunConfig {
    return this.configs[i];
  }

  stepOf(i: number): number {
    return this.book.stepOf(i);
  }

  active(): number[] {
    return this.book.active();
  }

  freeze(i: number): void {
    if (!this.book.freeze(i)) return;
    this.activeMask.dispose();
    this.activeMask = tf.tensor1d(this.book.activeMask(), 'bool') as tf.Tensor1D;
  }

  async trainStep(): Promise<void> {
    const t = this.book.step + 1;
    const { beta1, beta2, eps } = this.configs[0];
    const normTargets = this.normTargets.map((targets, i) => {
      if (!targets || this.book.frozen[i]) return null;
      const target = targets[t];
      if (target === undefined || !Number.isFinite(target)) throw new Error(`the norm-matched target has no weight norm for step ${t}`);
      return target;
    });
    const norms = tf.tidy(() => {
      const mix = stackedMix(this.configs, this.ctx.model.dModel, t);
      const vars = this.names.map((n) => this.params[n]);
      const { grads } = tf.variableGrads(() => tf.sum(crossEntropyPerRun(forwardStacked(this.ctx, this.params, this.train, false, mix).logits, this.trainLabels)) as tf.Scalar, vars);
      const stepSize = Array.from(this.lr, (lr) => lr / (1 - beta1 ** t));
      adamwStacked({ params: this.params, m: this.m, v: this.v, grads, shapes: this.shapes, active: this.activeMask, stepSize, decay: this.decay, beta1, beta2, eps, sqrtBc2: Math.sqrt(1 - beta2 ** t) });
      let normSq = normSquares(this.params, this.shapes);
      if (normTargets.some((x) => x !== null)) {
        // Replay each norm-matched run's target ‖θ‖ after this step (its representation untouched).
        const matched = tf.tensor1d(normTargets.map((x) => x !== null), 'bool');
        const factor = tf.where(matched, tf.div(tf.tensor1d(normTargets.map((x) => x ?? 1)), tf.sqrt(normSq)), tf.onesLike(normSq));
        for (const name of this.names) {
          const p = this.params[name];
          const rank = this.shapes[name].length;
          p.assign(tf.where(byRun(matched, rank), tf.mul(p, byRun(factor as tf.Tensor1D, rank)), p));
        }
        normSq = normSquares(this.params, this.shapes);
      }
      return tf.sqrt(normSq) as tf.Tensor1D;
    });
    this.pendingNorms.push(norms);
    this.book.stepped();
  }

  async takeNorms(i: number): Promise<number[]> {
    if (this.pendingNorms.length) {
      const pending = this.pendingNorms;
      this.pendingNorms = [];
      const steps = this.book.detach();
      const stacked = tf.stack(pending);
      try {
        const data = await stacked.data();
        this.book.handOut(steps, (k, s) => data[k * this.size + s]);
      } finally {
        stacked.dispose();
        tf.dispose(pending);
      }
    }
    return this.book.take(i);
  }

  /** Evaluation inputs for k runs: every pair of the task, tokens offset per run. */
  private allBatch(k: number): StackedBatch {
    let cached = this.allBatches.get(k);
    if (!cached) {
      const ds = this.datasets[0];
      const pairs = ds.labels.length;
      const ia = new Int32Array(k * pairs);
      const ib = new Int32Array(k * pairs);
      for (let s = 0; s < k; s++) {
        for (let r = 0; r < pairs; r++) {
          ia[s * pairs + r] = ds.inputs[r * 3] + s * ds.vocab;
          ib[s * pairs + r] = ds.inputs[r * 3 + 1] + s * ds.vocab;
        }
      }
      cached = { ia: tf.tensor1d(ia, 'int32'), ib: tf.tensor1d(ib, 'int32'), n: pairs };
      this.allBatches.set(k, cached);
    }
    return cached;
  }

  /** Runs evaluated in one pass: their activations over every pair within ~256 MB. */
  private evalChunk(): number {
    const c = this.configs[0];
    const pairs = this.datasets[0].labels.length;
    const perRun = 4 * pairs * (2 * c.dMlp + 8 * c.dModel + 2 * this.datasets[0].classes);
    return Math.max(1, Math.floor((256 * 1024 ** 2) / perRun));
  }

  async evaluate(indices: number[], withSpectra: boolean): Promise<EvalRecord[]> {
    const out: EvalRecord[] = [];
    const chunk = this.evalChunk();
    for (let from = 0; from < indices.length; from += chunk) out.push(...(await this.evaluateChunk(indices.slice(from, from + chunk), withSpectra)));
    return out;
  }

  private evaluateChunk(indices: number[], withSpectra: boolean): Promise<EvalRecord[]> {
    return evaluateStacked({
      indices,
      withSpectra,
      ctx: this.ctx,
      params: this.params,
      names: this.names,
      shapes: this.shapes,
      configs: this.configs,
      datasets: this.datasets,
      batch: this.allBatch(indices.length),
      stepOf: (i) => this.stepOf(i),
      eigenvalues: this.eigenvalues,
    });
  }

  /** Mean training loss of every run at its current parameters (no mix), read back: [S]. */
  async trainLosses(): Promise<number[]> {
    const l = tf.tidy(() => crossEntropyPerRun(forwardStacked(this.ctx, this.params, this.train, false).logits, this.trainLabels));
    try {
      return Array.from(await l.data());
    } finally {
      l.dispose();
    }
  }

  async snapshot(i: number): Promise<TrainState> {
    const read = async (vars: Record<string, tf.Variable>): Promise<HostParams> => {
      const out: HostParams = {};
      for (const name of this.names) {
        const t = tf.tidy(() => tf.squeeze(tf.slice(vars[name], [i, ...this.shapes[name].map(() => 0)], [1, ...this.shapes[name]]), [0]));
        try {
          out[name] = { shape: [...this.shapes[name]], data: Float32Array.from((await t.data()) as Float32Array) };
        } finally {
          t.dispose();
        }
      }
      return out;
    };
    return { step: this.stepOf(i), params: await read(this.params), m: await read(this.m), v: await read(this.v) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...Object.values(this.params), ...Object.values(this.m), ...Object.values(this.v), this.train.ia, this.train.ib, this.trainLabels, this.activeMask]);
    tf.dispose(this.pendingNorms);
    for (const batch of this.allBatches.values()) tf.dispose([batch.ia, batch.ib]);
    if (this.ctx.headSum) tf.dispose([this.ctx.headSum, this.ctx.headSpread!]);
  }
}
