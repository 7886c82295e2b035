import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../library.js';
import { checkpointDirFor } from '../paths.js';
import { checkpointPath, checkpointSteps, loadCheckpoint } from '../../train/checkpoint.js';
import { makeDataset } from '../../tasks/dataset.js';
import { isS5Task } from '../../tasks/groups.js';
import { paramShapes } from '../../models/config.js';
import type { RunConfig } from '../../schema/run-config.js';
import { f32Tensor, writeSafetensors, type SafeTensor } from '../../interop/safetensors.js';
import { hookedTransformerConfig, toTransformerLens } from '../../interop/transformerlens.js';
import { ExportError } from './export-error.js';
import { currentEvents } from '../traces.js';
import { LOAD_MLP_PY, LOAD_TRANSFORMER_PY } from './load-py.js';

/**
 * `grokscope export RUN --format transformerlens -o DIR [--step N | --all-checkpoints]`: a run's
 * weights at a checkpoint as safetensors under TransformerLens' names (interop/transformerlens.ts),
 * `config.json` (HookedTransformerConfig's fields, the task, its split, the run's final metrics)
 * and `load.py`. The MLP control has no TransformerLens counterpart: its tensors keep our names
 * and load.py holds its forward in a few lines of torch. Everything is read and checked before
 * the first file is written; the folder must be new or empty.
 */
export { ExportError };


function tensorsOf(config: RunConfig, file: string, vocab: number, classes: number): SafeTensor[] {
  const { params } = loadCheckpoint(file);
  const model = { arch: config.arch, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp };
  const shapes = paramShapes(model, vocab, classes);
  for (const [name, shape] of Object.entries(shapes)) {
    if (!params[name] || params[name].shape.join() !== shape.join()) throw new ExportError(`checkpoint ${file} does not hold ${name} of shape [${shape}] for this run's config`);
  }
  if (config.arch === 'transformer') return toTransformerLens(params, model, classes);
  return Object.keys(shapes).map((name) => f32Tensor(name, params[name].shape, params[name].data));
}

/** What was written: the files, the run (its full id) and the checkpoints' steps. */
export interface TransformerLensExport {
  files: string[];
  runId: string;
  steps: number[];
}

export async function exportTransformerLens(libraryDir: string, runArg: string, outDir: string, opts: { step?: number; allCheckpoints?: boolean } = {}): Promise<TransformerLensExport> {
  if (opts.step !== undefined && opts.allCheckpoints) throw new ExportError('give --step or --all-checkpoints, not both');
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new ExportError(`${outDir} exists and is not empty: choose a new folder`);
  const { run, metrics } = await Library.with(libraryDir, async (lib) => {
    const id = await lib.resolveRunId(runArg);
    return { run: await lib.getRun(id), metrics: await lib.getMetrics(id) };
  });
  const config = run.config;
  const dir = checkpointDirFor(libraryDir, run.id);
  const steps = checkpointSteps(dir);
  if (steps.length === 0) throw new ExportError(`run ${run.id} has no checkpoints to export (imported runs have none unless exported with --checkpoints)`);
  let chosen: number[];
  if (opts.allCheckpoints) chosen = steps;
  else if (opts.step !== undefined) {
    if (!steps.includes(opts.step)) throw new ExportError(`run ${run.id} has no checkpoint at step ${opts.step} (it has: ${steps.join(', ')})`);
    chosen = [opts.step];
  } else chosen = [steps[steps.length - 1]];

  const dataset = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.splitSeed ?? config.seed });
  const pairs = (idx: Int32Array): number[][] => Array.from(idx, (i) => [dataset.inputs[3 * i], dataset.inputs[3 * i + 1]]);
  const final = metrics.length ? metrics[metrics.length - 1] : null;
  // Read and convert every chosen checkpoint before writing anything.
  const files = chosen.map((step) => ({
    step,
    bytes: writeSafetensors(tensorsOf(config, checkpointPath(dir, step), dataset.vocab, dataset.classes), {
      format: config.arch === 'transformer' ? 'transformerlens' : 'grokscope-mlp',
      run: run.id,
      step: String(step),
    }),
  }));
  const configJson = {
    hooked_transformer_config: config.arch === 'transformer' ? hookedTransformerConfig(config, dataset.vocab, dataset.classes) : null,
    arch: config.arch,
    task: config.task,
    p: isS5Task(config.task) ? null : config.p,
    inputs: `[a, b, =] as token ids: group elements 0…${dataset.task.order - 1}, '=' is ${dataset.eqToken}; the label is a∘b; the logits are read at the last position`,
    split: { seed: config.splitSeed ?? config.seed, train_fraction: config.trainFraction, train_pairs: pairs(dataset.trainIndices), test_pairs: pairs(dataset.testIndices) },
    run: { id: run.id, status: run.status, steps_done: run.stepsDone, config },
    checkpoints: chosen,
    final_metrics: final
      ? { step: final.step, train_acc: final.train_acc, test_acc: final.test_acc, train_loss: final.train_loss, test_loss: final.test_loss, weight_norm: final.weight_norm }
      : null,
    events: currentEvents(run, metrics),
  };
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const write = (rel: string, data: string | Buffer): void => {
    const file = path.join(outDir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
    written.push(file);
  };
  if (opts.allCheckpoints) for (const f of files) write(path.join('checkpoints', `step_${f.step}.safetensors`), f.bytes);
  else write('model.safetensors', files[0].bytes);
  write('config.json', `${JSON.stringify(configJson, null, 2)}\n`);
  write('load.py', config.arch === 'transformer' ? LOAD_TRANSFORMER_PY : LOAD_MLP_PY);
  return { files: written, runId: run.id, steps: chosen };
}
