/**
 * One prepared script for a session that is lent a GPU (docs/benchmarks.md, "When a GPU is lent"):
 * pack it with the workplace's GPU kit and run it once on the lent machine. In one process, most
 * important first, the JSON rewritten after each part so that a run cut short still brings back
 * what it measured:
 *  1. the adapter Dawn finds, then the paper slice (scripts/gpu-paper-slice.ts): 8 worker threads
 *     at once, each one WGSL group of 30 reference runs (4 groups of Transformers, 4 of MLPs: the
 *     paper's 240 runs), 500 steps with evaluations on the preset's cadence — the rate the `paper`
 *     study would run at;
 *  1b. the evaluator's tridiagonal reduction alone (scripts/gpu-tridiagonal-lib.ts): 128- and
 *     512-wide matrices, 1, 8 and 120 at once — the figures the device-eigenvalue decision waits for;
 *  2. the WGSL engine's table (scripts/gpu-bench-lib.ts) at S = 1, 8, 32, 128, quick and reference
 *     presets, both architectures, with dispatches, submits and reads a step;
 *  3. a short study: 8 quick-preset Transformer runs (seeds 0–7) as one WGSL group, evaluated on the
 *     preset's schedule to their budget or a time box, with T_mem and T_grok per run and the wall
 *     time split between steps and evaluations (evaluations include the host's eigenvalues);
 *  4. PyTorch CUDA at the reference preset (scripts/torch_reference.py, from ./scripts);
 *  5. parity: WGSL groups on this adapter against each run trained alone by the host trainer;
 *  6. the stacked tfjs engine and run by run at S ≤ 32, for the same table.
 * The host's eigenvalues take LAPACK where the kit carries OpenBLAS (scripts/gpu-kit-extras.sh);
 * each slice worker reports which path it used.
 * Writes $OUT/gpu-session.json when OUT is set (the device tool brings it back), and the same JSON
 * last on stdout. On a software adapter every figure is labelled so.
 *
 * Usage: npx tsx scripts/gpu-session.ts [--groups 1,8,32,128] [--presets quick,reference]
 *        [--steps N] [--study-seconds 120] [--study-steps N] [--parity-steps 10] [--stacked-max 32]
 *        [--slice-groups 8] [--slice-size 30] [--slice-steps 500] [--slice-seconds 150]
 *        [--slice-preset reference] [--skip slice,eigen,bench,parity,study,torch,stacked]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { benchEngines, paperEstimate, torchRows } from './gpu-bench-lib.js';
import { paperSlice } from './gpu-paper-slice.js';
import { tridiagonalTimes } from './gpu-tridiagonal-lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const groups = flag('--groups', '1,8,32,128').split(',').map(Number);
// The stacked tfjs engine only up to this S (it is the engine being replaced; its large-S rows cost
// lease time and answer nothing new).
const stackedMax = Number(flag('--stacked-max', '32'));
const paritySteps = Number(flag('--parity-steps', '10'));
// Parts to leave out (a dry run on llvmpipe checks one part at a time): bench,stacked,parity,torch,study.
const skip = new Set(flag('--skip', '').split(','));
const slice = { preset: flag('--slice-preset', 'reference') as 'quick' | 'reference', groups: Number(flag('--slice-groups', '8')), size: Number(flag('--slice-size', '30')), steps: Number(flag('--slice-steps', '500')), seconds: Number(flag('--slice-seconds', '150')) };
const presets = flag('--presets', 'quick,reference').split(',') as ('quick' | 'reference')[];
const steps = Number(flag('--steps', '0'));
const studySeconds = Number(flag('--study-seconds', '120'));
const studySteps = Number(flag('--study-steps', String(PRESETS.quick.steps)));

const t0 = performance.now();
const info = await selectBackend('webgpu');
const software = /software adapter/.test(info.note);
process.stderr.write(`backend ${info.name}: ${info.note}${software ? ' — SOFTWARE: no figure below is a GPU figure' : ''}\n`);

const out: Record<string, unknown> = { adapter: info.note, software };
function save(): void {
  out.seconds = (performance.now() - t0) / 1000;
  if (!process.env.OUT) return;
  mkdirSync(process.env.OUT, { recursive: true });
  writeFileSync(path.join(process.env.OUT, 'gpu-session.json'), `${JSON.stringify(out, null, 1)}\n`);
}

/**
 * WGSL on this adapter against the host engine: each member trained alone by the single-run
 * trainer on tfjs's pure-JS cpu backend (the kit bundles tfjs; its wasm backend cannot load beside
 * the bundle's own tfjs-core, and the cpu kernels are an independent reference anyway). The worst relative difference of the train loss over the steps, and of the
 * evaluation's losses, accuracies and entropy at the end. Needs the wasm backend, so it runs after
 * the tfjs WebGPU rows. The reference shape keeps p = 97, d = 128, d_mlp = 512 (the tile edges
 * that matter) with 5 % of pairs to train, so that the JS trainer takes seconds a step, not tens.
 */
async function parity(): Promise<Record<string, unknown>[]> {
  await selectBackend('cpu');
  const results: Record<string, unknown>[] = [];
  const cases: [string, RunConfig[]][] = [];
  for (const arch of ['transformer', 'mlp'] as const) {
    const q = parseRunConfig({ ...PRESETS.quick, arch, backend: 'webgpu' });
    cases.push([`quick ${arch}`, [q, { ...q, seed: 1, condition: 'mix' }, { ...q, seed: 2, temperature: 2 }]]);
    const r = parseRunConfig({ ...PRESETS.reference, arch, backend: 'webgpu', trainFraction: 0.05 });
    // The reference shape on request: its JS trainer took over two minutes on the H200 box's CPU.
    if (args.includes('--parity-reference')) cases.push([`reference ${arch}`, [r]]);
  }
  for (const [name, configs] of cases) {
    const c0 = performance.now();
    const datasets = configs.map((c) => makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed }));
    const group = await WgslGroup.create(configs.map((config) => ({ config })), datasets);
    const alone = configs.map((c, i) => new Trainer({ ...c, backend: 'cpu' }, datasets[i]));
    let worstLoss = 0;
    const worstEval: Record<string, number> = {};
    try {
      const steps = name.startsWith('reference') ? Math.min(paritySteps, 5) : paritySteps;
      for (let s = 0; s <= steps; s++) {
        const got = await group.trainLosses();
        for (let i = 0; i < alone.length; i++) {
          const want = await alone[i].trainLoss();
          worstLoss = Math.max(worstLoss, Math.abs(got[i] - want) / want);
        }
        if (s === steps) break;
        await group.trainStep();
        for (const t of alone) await t.trainStep();
      }
      const records = await group.evaluate(configs.map((_, i) => i), true);
      for (const [i, t] of alone.entries()) {
        const want = await t.evaluate(true);
        const got = records[i];
        const pairs: [string, number, number][] = [
          ['train_loss', got.train_loss, want.train_loss],
          ['test_loss', got.test_loss, want.test_loss],
          ['train_acc', got.train_acc, want.train_acc],
          ['test_acc', got.test_acc, want.test_acc],
          ['weight_norm', got.weight_norm, want.weight_norm],
          ['entropy', got.probes['resid.final']!.entropy, want.probes['resid.final']!.entropy],
        ];
        for (const [k, a, b] of pairs) worstEval[k] = Math.max(worstEval[k] ?? 0, Math.abs(a - b) / Math.max(1e-12, Math.abs(b)));
      }
      results.push({ case: name, runs: configs.length, steps, worstRelTrainLoss: worstLoss, worstRelEval: worstEval, seconds: (performance.now() - c0) / 1000 });
    } catch (err) {
      results.push({ case: name, error: (err as Error).message });
    } finally {
      group.dispose();
      for (const t of alone) t.dispose();
    }
    process.stderr.write(`parity ${JSON.stringify(results.at(-1))}\n`);
    out.parity = results;
    save();
  }
  return results;
}

if (!skip.has('slice')) {
  out.slice = await paperSlice(slice, new URL(process.env.GPU_SESSION_ENTRY!)).catch((err) => String((err as Error).message));
  process.stderr.write(`paper slice: ${JSON.stringify(out.slice)}\n`);
  save();
}
if (!skip.has('eigen')) {
  out.eigen = await tridiagonalTimes([128, 512], [1, 8, 120], 5).catch((err) => String((err as Error).message));
  process.stderr.write(`tridiagonal reductions: ${JSON.stringify(out.eigen)}\n`);
  save();
}
const rows = skip.has('bench') ? [] : await benchEngines({ info, backendChoice: 'webgpu', groups, engines: ['wgsl'], steps, presets, runByRun: false });
out.rows = rows;
out.paper = paperEstimate(rows, groups);
save();
if (!skip.has('torch')) out.torch = torchRows([1, 32, 128].filter((S) => groups.includes(S)), path.resolve('scripts'), ['reference']);
save();

/** 8 quick runs as one WGSL group: T_mem, T_grok and where the time went. */
async function shortStudy(): Promise<Record<string, unknown>> {
  const config = parseRunConfig({ ...PRESETS.quick, backend: 'webgpu', steps: studySteps });
  const group = await WgslGroup.create(Array.from({ length: 8 }, (_, seed) => ({ config: { ...config, seed } })));
  const tMem: (number | null)[] = Array(8).fill(null);
  const tGrok: (number | null)[] = Array(8).fill(null);
  let stepMs = 0;
  let evalMs = 0;
  let evals = 0;
  const start = performance.now();
  let step = 0;
  try {
    for (; step <= config.steps; step++) {
      if (step % config.evalEvery === 0 || step === config.steps) {
        const e0 = performance.now();
        await group.takeNorms(0); // the queued steps finish before the evaluation's clock
        stepMs += performance.now() - e0;
        const e1 = performance.now();
        const records = await group.evaluate(group.active(), step % config.spectrumEvery === 0);
        evalMs += performance.now() - e1;
        evals++;
        records.forEach((r, i) => {
          if (tMem[i] === null && r.train_acc >= config.memThreshold) tMem[i] = step;
          if (tGrok[i] === null && r.test_acc >= config.grokThreshold) tGrok[i] = step;
        });
        if ((performance.now() - start) / 1000 > studySeconds) break;
      }
      if (step === config.steps) break;
      const s0 = performance.now();
      await group.trainStep();
      stepMs += performance.now() - s0;
    }
  } finally {
    group.dispose();
  }
  return { runs: 8, preset: 'quick', stepsDone: step, budget: config.steps, evals, seconds: (performance.now() - start) / 1000, stepSeconds: stepMs / 1000, evalSeconds: evalMs / 1000, msPerRunStep: stepMs / Math.max(1, step) / 8, T_mem: tMem, T_grok: tGrok, counts: group.counts };
}

if (!skip.has('study')) out.study = await shortStudy().catch((err) => String((err as Error).message));
process.stderr.write(`short study: ${JSON.stringify(out.study)}\n`);
save();
if (!skip.has('parity')) {
  await parity().catch((err) => {
    out.parity = String((err as Error).message);
  });
  save();
}
// Last: the engine being replaced (its figures were measured before; these only put it in the same table).
if (!skip.has('stacked')) {
  await selectBackend('webgpu');
  rows.push(...(await benchEngines({ info, backendChoice: 'webgpu', groups: groups.filter((S) => S <= stackedMax), engines: ['stacked'], steps, presets })));
}
out.rows = rows;
save();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
