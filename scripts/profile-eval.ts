/**
 * Where a host evaluation's time goes (issue 36: the evaluation's share of a run): the forward and
 * reads on the tfjs backend, then each part of measure() — eigenvalues of each probe, the weights'
 * effective ranks, the Fourier alignment, the progress measures — timed by running them alone on
 * the same read-back data. Usage: npx tsx scripts/profile-eval.ts [backend=wasm+openblas] [preset=quick] [arch=transformer] [repeats=20]
 */
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { probesFor, probeWidth } from '../core/models/config.js';
import { spectralSummary } from '../core/spectra/entropy.js';
import { effectiveRank } from '../core/spectra/weight-spectrum.js';
import { fourierAlignment } from '../core/spectra/fourier.js';
import { cyclicStructure, keyFrequencies, residueTask } from '../core/spectra/residues.js';
import { neuronLogitGini, progressMeasures } from '../core/spectra/progress.js';

const [backend = 'wasm+openblas', preset = 'quick', arch = 'transformer', repeatsArg = '20'] = process.argv.slice(2);
await selectBackend(backend as never);
const config = parseRunConfig({ ...PRESETS[preset as 'quick'], arch });
const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: 0 });
const t = new Trainer(config, ds);
for (let i = 0; i < 20; i++) await t.trainStep();
const repeats = Number(repeatsArg);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn: () => unknown): Promise<number> => {
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
};
const rows: [string, number][] = [];
rows.push(['evaluate(false), whole', await time(() => t.evaluate(false))]);
rows.push(['evaluate(true), whole', await time(() => t.evaluate(true))]);
const steps = await time(() => t.trainStep());
// The parts of measure(), on the trainer's current state.
const model = { arch: config.arch, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp };
const eig = (t as unknown as { eigenvalues: (m: Float32Array, n: number) => Float64Array }).eigenvalues;
for (const name of probesFor(config.arch)) {
  const w = probeWidth(model, name);
  const cov = new Float32Array(w * w);
  for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) cov[i * w + j] = Math.exp(-Math.abs(i - j)) + (i === j ? 1 : 0);
  rows.push([`eigenvalues of ${name} (${w} wide)`, await time(() => spectralSummary(eig(cov, w), w))]);
}
const params = t.parameters;
const eig64 = (g: Float64Array, n: number): Float64Array => eig(Float32Array.from(g), n);
rows.push(['effective ranks (embed, W_U)', await time(() => [effectiveRank(params.embed.data, params.embed.shape[0], params.embed.shape[1], eig64), effectiveRank(params.W_U.data, params.W_U.shape[0], params.W_U.shape[1], eig64)])]);
rows.push(['Fourier alignment', await time(() => fourierAlignment(params.embed.data, ds.task.order, config.dModel, config.fourierK))]);
const task = residueTask(config.task);
if (task) {
  const logits = await t.logits(true);
  const structure = cyclicStructure(task, ds.task.order);
  const keyFreqs = keyFrequencies(params.embed.data, structure, config.dModel, config.fourierK);
  rows.push(['key frequencies', await time(() => keyFrequencies(params.embed.data, structure, config.dModel, config.fourierK))]);
  rows.push(['progress measures', await time(() => progressMeasures({ structure, classes: ds.classes, logits, inputs: ds.inputs, labels: ds.labels, trainIndices: ds.trainIndices, testIndices: ds.testIndices, keyFreqs }))]);
  rows.push(['neuron-logit Gini', await time(() => neuronLogitGini(params.W_out.data, params.W_U.data, config.dMlp, config.dModel, ds.classes, structure))]);
}
const whole = rows[0][1];
const spectraEval = rows[1][1];
const cadence = config.evalEvery;
const perSpectra = config.spectrumEvery / config.evalEvery;
const evalAvg = (whole * (perSpectra - 1) + spectraEval) / perSpectra;
for (const [what, ms] of rows) console.log(`${what.padEnd(36)} ${ms.toFixed(2).padStart(8)} ms`);
console.log(`step ${steps.toFixed(2)} ms; evaluations every ${cadence} steps, spectra every ${perSpectra}th: evaluation share ${((100 * evalAvg) / (evalAvg + cadence * steps)).toFixed(1)} % of a run`);
