import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../schema/run-config.js';
import type { Dataset } from '../../tasks/dataset.js';
import { blasGemm, blasGram, blasMatMulRegistered, loadBlas, type Blas } from './blas.js';
import { HostMlpStep } from './host-mlp.js';
import { HostTransformerStep } from './host-transformer.js';
import { instantiateHostKernels } from './host-kernels.js';
import { HostEvaluator } from './host-eval.js';
import { usesTemperature } from '../logit-temperature.js';

/** Whether sgemm is here: the tfjs backend is `wasm` with OpenBLAS's products registered (`wasm+openblas`). */
function hostGemmHere(): boolean {
  return tf.getBackend() === 'wasm' && blasMatMulRegistered();
}

/**
 * The fused host steps run on `wasm+openblas` (sgemm is there): the MLP's for baseline and
 * norm-matched runs, the Transformer's for those and orthogonal-mix runs. The entropy penalty
 * (and the MLP's mix) change the graph in ways only tfjs's autodiff follows here.
 */
export function fusedStepApplies(config: RunConfig): boolean {
  if (!hostGemmHere()) return false;
  if (usesTemperature(config)) return false; // the fused steps have no temperature: tfjs's autodiff does
  if (config.condition !== 'mix') return true;
  return config.arch === 'transformer' && (config.mixForm === 'orthogonal' || config.mixStrength === 0);
}

function gemmHere() {
  return blasGemm(loadBlas() as Blas);
}

export function makeHostStep(config: RunConfig, dataset: Dataset, a: Int32Array, b: Int32Array, labels: Int32Array): HostMlpStep | HostTransformerStep {
  const { vocab, classes } = dataset;
  if (config.arch === 'mlp') return new HostMlpStep({ vocab, classes, dModel: config.dModel, dMlp: config.dMlp }, a, b, labels, gemmHere(), instantiateHostKernels());
  return new HostTransformerStep({ vocab, classes, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp, eqToken: dataset.eqToken }, a, b, labels, gemmHere(), instantiateHostKernels());
}

/**
 * The host evaluation (host-eval.ts) wherever sgemm is, whatever the run's condition or
 * temperature: an evaluation measures the model without interventions, so it needs only the
 * plain forward pass. Null elsewhere (the tfjs graph evaluates).
 *
 * One evaluator per model shape and task in a thread, shared by its runs: it holds only work
 * space over every input of the task (about 100 MB of buffers at the reference preset), the parameters come
 * with each call, and a run group's members evaluate one after another. A few shapes are kept.
 */
export function makeHostEvaluator(config: RunConfig, dataset: Dataset): HostEvaluator | null {
  if (!hostGemmHere()) return null;
  const key = JSON.stringify([config.arch, config.task, config.p, config.dModel, config.nHeads, config.dMlp]);
  let evaluator = shared.get(key);
  if (evaluator) shared.delete(key);
  else evaluator = new HostEvaluator(config, dataset, gemmHere(), instantiateHostKernels(), blasGram(loadBlas() as Blas));
  shared.set(key, evaluator);
  if (shared.size > SHARED_SHAPES) shared.delete(shared.keys().next().value!);
  return evaluator;
}

const SHARED_SHAPES = 4;
/** Evaluators by shape, least recently asked for first. */
const shared = new Map<string, HostEvaluator>();
