import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isS5Task, TASK_NAMES, type TaskName } from '../../core/tasks/groups.js';
import { MeasureError, measureModelFile } from '../../core/service/measure-model.js';
import { firstLine } from '../../core/errors.js';
import { printJson, type CommonOpts } from './common.js';
import { UserError } from './errors.js';

/**
 * `grokscope measure FILE.safetensors --task mod-add --p 113`: our observables for a model trained
 * elsewhere — a 1-layer, LayerNorm-free, ReLU Transformer saved under TransformerLens' names
 * (interop/transformerlens.ts says which and what is refused). The model is measured by the same
 * code as our own evaluations (core/service/measure-model.ts → Trainer.evaluate): H̃, effective rank and top-5 share per probe,
 * the spectra, Fourier (Z/pZ) or irrep (S5) alignment, accuracy over every pair and over a seeded
 * train/test split (`--split-seed`, `--train-fraction`: ours, not the other tool's, unless they
 * agree). Reads only; writes nothing.
 */
export interface MeasureOpts extends CommonOpts {
  task?: string;
  p?: string;
  splitSeed?: string;
  trainFraction?: string;
}

const number = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UserError(`--${name} must be a number (got '${value}')`);
  return n;
};

export async function cmdMeasure(file: string, opts: MeasureOpts): Promise<number> {
  const task = (opts.task ?? 'mod-add') as TaskName;
  if (!(TASK_NAMES as readonly string[]).includes(task)) throw new UserError(`--task must be one of ${TASK_NAMES.join(', ')} (got '${opts.task}')`);
  const p = number('p', opts.p, 113);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${firstLine(err)}`);
  }
  const measured = await measureModelFile(buf, path.basename(file), { task, p, splitSeed: number('split-seed', opts.splitSeed, 0), trainFraction: number('train-fraction', opts.trainFraction, 0.3) }).catch((err: unknown) => {
    throw err instanceof MeasureError ? new UserError(err.message) : err;
  });
  const { model, config, record, accuracyAllPairs: allAcc } = measured;
  const out = { file: path.resolve(file), task, p: isS5Task(task) ? null : p, model, accuracy_all_pairs: allAcc, split: { seed: config.seed, train_fraction: config.trainFraction }, record };
  if (opts.json) {
    printJson(out);
    return 0;
  }
  const f = (x: number): string => x.toFixed(4);
  const lines = [
    `${path.basename(file)}: ${task}${isS5Task(task) ? '' : ` p=${p}`}, d_model ${model.dModel}, ${model.nHeads} heads, d_mlp ${model.dMlp}`,
    `accuracy over all ${measured.pairs} pairs: ${(100 * allAcc).toFixed(1)} %; on our split (seed ${config.seed}, ${config.trainFraction} train): train ${(100 * record.train_acc).toFixed(1)} %, test ${(100 * record.test_acc).toFixed(1)} %`,
    `weight norm ${f(record.weight_norm)}${record.fourier ? `; Fourier top-${config.fourierK} share ${f(record.fourier.topk_share)}, Gini ${f(record.fourier.gini)}` : ''}`,
    'probe         H̃        eff. rank   top-5 share   top eigenvalues',
    ...Object.entries(record.probes).map(([probe, s]) => {
      const eig = record.spectra?.[probe as keyof typeof record.spectra] ?? [];
      return `${probe.padEnd(12)}  ${f(s!.entropy)}   ${s!.eff_rank.toFixed(2).padStart(9)}   ${f(s!.top5_share).padStart(11)}   ${eig.slice(0, 3).map((x) => x.toPrecision(3)).join(', ')}`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
