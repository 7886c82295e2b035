import { readSafetensors } from '../interop/safetensors.js';
import { fromTransformerLens } from '../interop/transformerlens.js';
import { PRESETS, parseRunConfig, type RunConfig } from '../schema/run-config.js';
import type { EvalRecord } from '../schema/eval-record.js';
import { makeDataset } from '../tasks/dataset.js';
import { makeTask, type TaskName } from '../tasks/groups.js';
import { selectBackend } from '../train/backend.js';
import { ParameterEvaluator } from '../train/eval/parameters.js';
import type { ModelConfig } from '../models/config.js';
import { firstLine, GrokscopeError } from '../errors.js';

/** A model file that cannot be measured, in one line (the file's name first where it is the file's fault). */
export class MeasureError extends GrokscopeError {}

export interface MeasureRequest {
  task: TaskName;
  p: number;
  /** Seed and train fraction of our split (ours, not the other tool's, unless they agree). */
  splitSeed: number;
  trainFraction: number;
}

export interface ModelMeasurement {
  model: ModelConfig;
  config: RunConfig;
  pairs: number;
  accuracyAllPairs: number;
  record: EvalRecord;
}

/**
 * Our observables for a model trained elsewhere (a TransformerLens safetensors file): the model
 * is evaluated from its parameters as every run of ours is (train/eval/parameters.ts: the same
 * readout and record, no optimiser state) — on plain wasm. `grokscope measure` is its host.
 */
export async function measureModelFile(buf: Buffer, name: string, req: MeasureRequest): Promise<ModelMeasurement> {
  let group;
  try {
    group = makeTask(req.task, req.p);
  } catch (err) {
    throw new MeasureError(firstLine(err));
  }
  const where = (err: unknown): never => {
    throw new MeasureError(`${name}: ${firstLine(err)}`);
  };
  let tensors;
  try {
    tensors = readSafetensors(buf).tensors;
  } catch (err) {
    return where(err);
  }
  let converted;
  try {
    converted = fromTransformerLens(tensors, group.order + 1, group.order);
  } catch (err) {
    return where(err);
  }
  const { model, params } = converted;
  const config = parseRunConfig({ ...PRESETS.quick, task: req.task, p: req.p, ...model, seed: req.splitSeed, trainFraction: req.trainFraction, backend: 'wasm' }, 'measure options');
  await selectBackend('wasm');
  const dataset = makeDataset({ task: req.task, p: req.p, trainFraction: config.trainFraction, seed: config.seed });
  const evaluator = new ParameterEvaluator(config, dataset);
  let record: EvalRecord;
  try {
    record = await evaluator.evaluate(params, 0, true);
  } finally {
    evaluator.dispose();
  }
  // Every pair is in the train or the test set: the counts behind the two accuracies add up.
  const correct = Math.round(record.train_acc * dataset.trainIndices.length) + Math.round(record.test_acc * dataset.testIndices.length);
  return { model, config, pairs: dataset.labels.length, accuracyAllPairs: correct / dataset.labels.length, record };
}
