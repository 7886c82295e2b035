import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../schema/run-config.js';
import type { EvalRecord } from '../../schema/eval-record.js';
import type { Dataset } from '../../tasks/dataset.js';
import type { HostParams } from '../../models/init.js';
import { probesFor } from '../../models/config.js';
import { residueTask } from '../../spectra/residues.js';
import { measure } from './record.js';
import { eigenvaluesHere } from './eigen.js';
import { makeHostEvaluator } from '../host/host-choice.js';
import type { HostEvaluator } from '../host/host-eval.js';
import { forward, makeHeadMatrices, type Batch, type ForwardContext } from '../tfjs/forward.js';
import { batchOf, column, oneHot } from '../tfjs/tensors.js';
import { tfjsReadout } from '../tfjs/readout.js';
import { evaluatedLogits, evaluationFactor, type LogitTargets } from '../logit-temperature.js';
import { modelConfigOf } from '../trainer.js';

/**
 * A model's parameters evaluated as a run's evaluation would (eval/record.ts), from parameters
 * alone: no optimiser state, no trainer. For models trained elsewhere (`grokscope measure`,
 * service/measure-model.ts) and for a finished run's snapshots (final-progress.ts). The host
 * readout where sgemm is, else the tfjs graph over every input; a logit-matched run's logits are
 * scaled to its target's at the parameters' step, as its own evaluations were.
 */
export class ParameterEvaluator {
  private readonly host: HostEvaluator | null;
  private tfjs: { ctx: ForwardContext; batch: Batch; labels: tf.Tensor2D; labelIds: tf.Tensor1D } | null = null;
  private readonly eigenvalues = eigenvaluesHere();

  constructor(
    private readonly config: RunConfig,
    private readonly dataset: Dataset,
    private readonly logitTargets: LogitTargets | null = null,
  ) {
    this.host = makeHostEvaluator(config, dataset);
  }

  /** The record of these parameters at `step` (the step their targets and the record use). */
  async evaluate(params: HostParams, step: number, withSpectra: boolean): Promise<EvalRecord> {
    const { config, dataset } = this;
    const names = Object.keys(params);
    const withLogits = residueTask(config.task) !== null;
    const base = { step, dataset, config, names, eigenvalues: this.eigenvalues, withSpectra, weights: params };
    if (this.host) return measure({ ...base, ...this.host.readout(params, names, (raw) => evaluationFactor(config, this.logitTargets, step, raw), withLogits) });
    const read = await this.onGraph(params, (t, tensors) => tfjsReadout({ ...t, params: tensors, names, probes: probesFor(config.arch), asEvaluated: (z) => evaluatedLogits(z, config, this.logitTargets, step), withLogits }));
    return measure({ ...base, ...read });
  }

  /** Every input's logits as an evaluation at `step` sees them (N × classes, the dataset's order). */
  async logits(params: HostParams, step: number): Promise<Float32Array> {
    const { config } = this;
    const names = Object.keys(params);
    if (this.host) return Float32Array.from(this.host.readout(params, names, (raw) => evaluationFactor(config, this.logitTargets, step, raw), true).logits!);
    return this.onGraph(params, async (t, tensors) => {
      const z = tf.tidy(() => evaluatedLogits(forward(t.ctx, tensors, t.batch, false).logits, config, this.logitTargets, step));
      try {
        return (await z.data()) as Float32Array;
      } finally {
        z.dispose();
      }
    });
  }

  /** `fn` on the tfjs graph's inputs with the parameters as tensors, disposed after. */
  private async onGraph<T>(params: HostParams, fn: (graph: NonNullable<ParameterEvaluator['tfjs']>, tensors: Record<string, tf.Tensor>) => Promise<T>): Promise<T> {
    const tensors = Object.fromEntries(Object.keys(params).map((n) => [n, tf.tensor(params[n].data, params[n].shape)]));
    try {
      return await fn(this.graph(), tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }

  /** The tfjs graph's constant inputs, made on first use. */
  private graph(): NonNullable<ParameterEvaluator['tfjs']> {
    if (this.tfjs) return this.tfjs;
    const { config, dataset } = this;
    const model = modelConfigOf(config);
    const ctx: ForwardContext = { model, eqToken: dataset.eqToken, order: dataset.task.order, rowLookup: tf.getBackend() === 'cpu' ? 'onehot' : 'gather' };
    if (model.arch === 'transformer') Object.assign(ctx, makeHeadMatrices(model));
    const labels = Int32Array.from(dataset.labels);
    this.tfjs = { ctx, batch: batchOf(column(dataset.inputs, 0), column(dataset.inputs, 1), dataset.vocab), labels: oneHot(labels, dataset.classes), labelIds: tf.tensor1d(labels, 'int32') };
    return this.tfjs;
  }

  dispose(): void {
    if (!this.tfjs) return;
    const { ctx, batch, labels, labelIds } = this.tfjs;
    tf.dispose([batch.xa, batch.xb, batch.ia, batch.ib, labels, labelIds, ...(ctx.headSum ? [ctx.headSum] : []), ...(ctx.headSpread ? [ctx.headSpread] : [])]);
    this.tfjs = null;
  }
}
