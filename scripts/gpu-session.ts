/**
 * One prepared script for a session that is lent a GPU (docs/benchmarks.md, "When a GPU is lent"):
 * pack it with the workplace's GPU kit and run it once on the lent machine. In one process:
 *  1. the adapter Dawn finds;
 *  2. the engines' table (scripts/gpu-bench-lib.ts): WGSL and stacked tfjs at S = 1, 8, 32, run by
 *     run at S = 1, quick and reference presets, both architectures, with dispatches, submits and
 *     reads a step, and PyTorch CUDA beside them (scripts/torch_reference.py, from ./scripts);
 *  3. a short study: 8 quick-preset Transformer runs (seeds 0–7) as one WGSL group, evaluated on the
 *     preset's schedule to their budget or a time box, with T_mem and T_grok per run and the wall
 *     time split between steps and evaluations (evaluations include the host's eigenvalues).
 * Writes $OUT/gpu-session.json when OUT is set (the device tool brings it back), and the same JSON
 * last on stdout. On a software adapter every figure is labelled so.
 *
 * Usage: npx tsx scripts/gpu-session.ts [--groups 1,8,32] [--presets quick,reference]
 *        [--steps N] [--study-seconds 180] [--study-steps N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { selectBackend } from '../core/train/backend.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { benchEngines, paperEstimate, torchRows } from './gpu-bench-lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const groups = flag('--groups', '1,8,32').split(',').map(Number);
const presets = flag('--presets', 'quick,reference').split(',') as ('quick' | 'reference')[];
const steps = Number(flag('--steps', '0'));
const studySeconds = Number(flag('--study-seconds', '180'));
const studySteps = Number(flag('--study-steps', String(PRESETS.quick.steps)));

const t0 = performance.now();
const info = await selectBackend('webgpu');
const software = /software adapter/.test(info.note);
process.stderr.write(`backend ${info.name}: ${info.note}${software ? ' — SOFTWARE: no figure below is a GPU figure' : ''}\n`);

const rows = await benchEngines({ info, backendChoice: 'webgpu', groups, engines: ['wgsl', 'stacked'], steps, presets });
const torch = torchRows(groups, path.resolve('scripts'));

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

const study = await shortStudy();
process.stderr.write(`short study: ${JSON.stringify(study)}\n`);
const out = { adapter: info.note, software, rows, torch, paper: paperEstimate(rows, groups), study, seconds: (performance.now() - t0) / 1000 };
if (process.env.OUT) {
  mkdirSync(process.env.OUT, { recursive: true });
  writeFileSync(path.join(process.env.OUT, 'gpu-session.json'), `${JSON.stringify(out, null, 1)}\n`);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
