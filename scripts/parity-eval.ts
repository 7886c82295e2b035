/**
 * WGSL evaluation records against the host engine's at the same parameters (issue 36, item 5), on
 * whatever WebGPU adapter this machine has (Mesa's llvmpipe here): for each preset and
 * architecture, one run trained a few steps by the WGSL engine, evaluated with spectra there, then
 * its parameters evaluated by the single-run trainer on wasm+openblas (LAPACK eigenvalues in
 * float64 of a float32 covariance). Prints one JSON line per case:
 *  - entropy: the largest |ΔH̃| over probes;
 *  - spectra: per threshold r, the worst relative difference over the eigenvalues ≥ r·λmax of
 *    every probe's spectrum;
 *  - accuracies_equal, the worst relative difference of the losses, progress losses, effective
 *    ranks and Fourier share, and the largest |Δ| of the log-probability quantiles.
 * Usage: npx tsx scripts/parity-eval.ts [--presets quick,reference] [--archs transformer,mlp] [--steps 20]
 */
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { listArg, numberArg } from './args.js';

const presets = listArg('presets', 'quick,reference') as ('quick' | 'reference')[];
const archs = listArg('archs', 'transformer,mlp') as ('transformer' | 'mlp')[];
const steps = numberArg('steps', 20);
const THRESHOLDS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2];

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-30, Math.abs(b));

function compare(got: EvalRecord, want: EvalRecord): Record<string, unknown> {
  let entropy = 0;
  for (const [name, s] of Object.entries(want.probes)) entropy = Math.max(entropy, Math.abs(got.probes[name as keyof typeof got.probes]!.entropy - s!.entropy));
  const spectra: Record<string, number> = {};
  for (const r of THRESHOLDS) {
    let worst = 0;
    for (const [name, w] of Object.entries(want.spectra ?? {})) {
      const g = got.spectra![name as keyof typeof got.spectra]!;
      w!.forEach((x, k) => {
        if (x >= r * w![0]) worst = Math.max(worst, rel(g[k], x));
      });
    }
    spectra[`above_${r}`] = worst;
  }
  const worst = (pairs: [number, number][]): number => Math.max(0, ...pairs.map(([a, b]) => rel(a, b)));
  return {
    entropy,
    spectra,
    accuracies_equal: got.train_acc === want.train_acc && got.test_acc === want.test_acc,
    losses: worst([
      [got.train_loss, want.train_loss],
      [got.test_loss, want.test_loss],
    ]),
    progress_losses: want.progress
      ? worst([
          [got.progress!.restricted_loss, want.progress.restricted_loss],
          [got.progress!.excluded_loss, want.progress.excluded_loss],
        ])
      : null,
    key_freqs_equal: JSON.stringify(got.progress?.key_freqs) === JSON.stringify(want.progress?.key_freqs),
    erank: worst([
      [got.weight_erank!.embed, want.weight_erank!.embed],
      [got.weight_erank!.W_U, want.weight_erank!.W_U],
    ]),
    fourier: worst([[got.fourier!.topk_share, want.fourier!.topk_share]]),
    quantiles: Math.max(0, ...want.logprob_quantiles!.map((x, k) => Math.abs(got.logprob_quantiles![k] - x))),
  };
}

await selectBackend('wasm+openblas').catch(() => selectBackend('wasm'));
for (const preset of presets) {
  for (const arch of archs) {
    const t0 = performance.now();
    const config = parseRunConfig({ ...PRESETS[preset], arch, backend: 'webgpu' });
    const dataset = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
    const group = await WgslGroup.create([{ config }], [dataset]);
    try {
      for (let s = 0; s < steps; s++) await group.trainStep();
      const [got] = await group.evaluate([0], true);
      const trainer = new Trainer(config, dataset, await group.snapshot(0), {});
      const want = await trainer.evaluate(true);
      trainer.dispose();
      console.log(JSON.stringify({ preset, arch, steps, ...compare(got, want), seconds: +((performance.now() - t0) / 1000).toFixed(1) }));
    } finally {
      group.dispose();
    }
  }
}
