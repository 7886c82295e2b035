import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { RunGroup } from '../core/train/run-group.js';
import { probeWebGpu, dawnCounts } from '../core/train/gpu/webgpu.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { gpuContext } from '../core/train/gpu/device.js';
import { encode, Recorder } from '../core/train/gpu/program.js';
import { executeGroup } from '../core/runs/run-executor.js';
import { Library } from '../core/library/library.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { poolAndLibrary } from './helpers/pool.js';
import { expectGoldenSlice } from './helpers/golden.js';
import { normTrajectory } from './helpers/train.js';

/**
 * The WGSL engine (core/train/gpu/) on the WebGPU adapter `npm test` provides (Mesa's llvmpipe, or
 * a GPU), against the host engine: each run of a group trained alone by the single-run trainer on
 * a CPU backend (wasm+openblas where OpenBLAS loads, else wasm). Losses step by step, evaluations
 * at the same parameters, the golden values, T_mem, a frozen slice, ten groups in one worker, the
 * device counters, a lost device. Where no adapter exists, the engine must refuse in one line.
 */
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 100, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 50, backend: 'webgpu' });
const datasetOf = (c: RunConfig) => makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed });
const probe = await probeWebGpu();

/** The host engine's backend: what RunGroup trains with on a CPU. */
async function hostBackend(): Promise<void> {
  await selectBackend('wasm+openblas').catch(() => selectBackend('wasm'));
}

function expectSameRecord(got: EvalRecord, want: EvalRecord, tol: number): void {
  const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), what).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
  expect(got.step).toBe(want.step);
  for (const key of ['train_loss', 'test_loss', 'train_acc', 'test_acc', 'weight_norm'] as const) close(got[key], want[key], key);
  for (const [probeName, summary] of Object.entries(want.probes)) close(got.probes[probeName as keyof typeof got.probes]!.entropy, summary!.entropy, probeName);
  close(got.fourier!.topk_share, want.fourier!.topk_share, 'fourier');
  close(got.fourier!.gini, want.fourier!.gini, 'fourier gini');
  for (const key of ['scale', 'max_softmax', 'train_margin'] as const) close(got.logits![key], want.logits![key], key);
  // The device selects the quantiles' order statistics (gpu/example-summary.ts); the host sorts.
  expect(got.logprob_quantiles).toHaveLength(want.logprob_quantiles!.length);
  got.logprob_quantiles!.forEach((x, k) => close(x, want.logprob_quantiles![k], `log-probability quantile ${k}`));
  close(got.weight_erank!.embed, want.weight_erank!.embed, 'erank embed');
  close(got.weight_erank!.W_U, want.weight_erank!.W_U, 'erank W_U');
  expect(got.progress === undefined, 'progress measures present').toBe(want.progress === undefined);
  if (want.progress) {
    expect(got.progress!.key_freqs).toEqual(want.progress.key_freqs);
    close(got.progress!.restricted_loss, want.progress.restricted_loss, 'restricted loss');
    close(got.progress!.excluded_loss, want.progress.excluded_loss, 'excluded loss');
    got.progress!.logit_power.forEach((x, w) => close(x, want.progress!.logit_power[w], `logit power ${w + 1}`));
    close(got.progress!.neuron_logit_gini!, want.progress.neuron_logit_gini!, 'neuron-to-logit Gini');
  }
  // Weight spectra (the device's Gram and tridiagonal, gpu/weight-readout.ts): the same trap counts, α where both fit one.
  expect(Object.keys(got.weight_spectra ?? {})).toEqual(Object.keys(want.weight_spectra ?? {}));
  for (const [name, w] of Object.entries(want.weight_spectra ?? {})) {
    const g = got.weight_spectra![name];
    expect(g.traps, `traps of ${name}`).toBe(w.traps);
    if (w.alpha !== null && g.alpha !== null) close(g.alpha, w.alpha, `α of ${name}`);
  }
  // Full probe spectra, each eigenvalue to tol of the largest: the engines' covariances themselves
  // differ by ~1e-5 of it (ReLU units near their kink; the host's solver on the WGSL covariance
  // showed the same 1.3e-5 on mod-mul's mlp.hidden), the device's tridiagonal adds ~1e-9.
  for (const [name, spectrum] of Object.entries(want.spectra ?? {})) {
    const g = got.spectra![name as keyof typeof got.spectra]!;
    expect(g).toHaveLength(spectrum!.length);
    spectrum!.forEach((x, k) => expect(Math.abs(g[k] - x), `${name} eigenvalue ${k}`).toBeLessThanOrEqual(tol * spectrum![0]));
  }
}

if (probe.ok) {
  describe(`the WGSL engine (${probe.description ?? 'adapter'})`, () => {
    beforeAll(hostBackend);

    for (const arch of ['transformer', 'mlp'] as const) {
      it(`trains each ${arch} slice as the run alone on the host engine: seeds, lr, decay, mix, norm-matched, logit-matched, a temperature, the entropy penalty, one frozen half-way (100 steps)`, async () => {
        const base = { ...tiny, arch };
        const mix = { ...base, seed: 3, condition: 'mix' as const };
        const normTargets = await normTrajectory(mix, 100);
        const members = [
          { config: { ...base, seed: 1 } },
          { config: { ...base, seed: 2, lr: 2e-3, weightDecay: 0.3 } },
          { config: mix },
          { config: { ...base, seed: 4, condition: 'norm-matched' as const, normTargetRun: 'x' }, normTargets },
          { config: { ...base, seed: 5, temperature: 2 } },
          // Its logit scale held to a line from 0.3 to 0.9 over the 100 steps (τ set before every step).
          { config: { ...base, seed: 6, condition: 'logit-matched' as const, logitTargetRun: 'x' }, logitTargets: { steps: Float64Array.from([0, 100]), values: Float64Array.from([0.3, 0.9]) } },
          // The entropy penalty (its gradient on the device: penalty-kernels.ts) against tfjs's autograd of interventions.ts.
          { config: { ...base, seed: 7, condition: 'mix' as const, mixForm: 'entropy-penalty' as const, mixStrength: 0.1 } },
        ];
        const PENALISED = 6;
        const group = await WgslGroup.create(members);
        // Each run alone: member by member (a CPU-style run group keeps each member's own window of updates).
        const aloneGroup = new RunGroup(members);
        const alone = aloneGroup.trainers;
        try {
          let worst = 0;
          let worstPenalised = 0;
          let frozenState = null;
          for (let s = 0; s <= 100; s++) {
            const got = await group.trainLosses();
            for (let i = 0; i < members.length; i++) {
              const want = await alone[i].trainLoss();
              const gap = Math.abs(got[i] - want) / want;
              // The penalised run is held to the first 50 steps: past them its trajectory amplifies
              // float32 rounding (λ changed by 1e-6 moves the WGSL engine's own loss by ~1e-4 by step
              // 85 at this size, measured 2026-12-05), which says nothing about the kernels.
              if (i === PENALISED) worstPenalised = s <= 50 ? Math.max(worstPenalised, gap) : worstPenalised;
              else worst = Math.max(worst, gap);
            }
            if (s === 100) break;
            if (s === 50) {
              group.freeze(0);
              aloneGroup.freeze(0);
              frozenState = await group.snapshot(0);
            }
            await group.trainStep();
            await aloneGroup.trainStep();
          }
          expect(worst).toBeLessThan(1e-4);
          expect(worstPenalised).toBeLessThan(1e-5);
          // The frozen slice: not one bit moved over 50 steps, and no norms after its freeze.
          const after = await group.snapshot(0);
          expect(after.step).toBe(50);
          for (const part of ['params', 'm', 'v'] as const) for (const name of Object.keys(after.params)) expect(Array.from(after[part][name].data), `${part}.${name}`).toEqual(Array.from(frozenState![part][name].data));
          expect(await group.takeNorms(0)).toHaveLength(50);
          const matched = await group.takeNorms(3);
          expect(matched).toHaveLength(100);
          expect(Math.abs(matched[99] - normTargets[100])).toBeLessThan(1e-4 * normTargets[100]);
          // Evaluation records at the same parameters as the single-run trainer's, spectra included.
          const records = await group.evaluate([0, 1, 2, 3, 4, 5, 6], true);
          // The logit-matched run records its target's scale (0.9 at step 100).
          expect(Math.abs(records[5].logits!.scale - 0.9)).toBeLessThan(1e-5);
          for (const [i, m] of members.entries()) {
            const t = new Trainer(m.config, datasetOf(m.config), await group.snapshot(i), { normTargets: m.normTargets, logitTargets: m.logitTargets });
            expectSameRecord(records[i], await t.evaluate(true), 1e-4);
            t.dispose();
          }
          // The spectral-edge gap of the last 10 updates, from the device's update ring, as the trainer's own window has it.
          // An update is a difference of nearly equal parameters (lr·|θ| ≈ 1e-3·|θ|): the runs' 1e-6
          // relative agreement in θ is ~1e-3 in the updates, hence 1e-2 on their singular-value ratio.
          for (let i = 1; i < members.length; i++) {
            if (i === PENALISED) continue; // its θ agrees to ~1e-4 only at step 100 (above): too loose for updates
            const want = (await aloneGroup.evaluate([i], false))[0].update_edge!;
            expect(records[i].update_edge!.k, `run ${i}`).toBe(want.k);
            expect(Math.abs(records[i].update_edge!.gap - want.gap) / want.gap, `run ${i}`).toBeLessThan(1e-2);
          }
          expect(records[0].update_edge).toBeUndefined(); // frozen at 50: the ring holds later steps
          // A subset, out of order: only those runs computed, each record the same as in the full pass.
          const some = await group.evaluate([3, 1], true);
          expect(some.map((r) => r.test_loss)).toEqual([records[3].test_loss, records[1].test_loss]);
          expect(some[0].probes['resid.final']!.entropy).toBe(records[3].probes['resid.final']!.entropy);
          expect(Object.keys(records[0].weight_spectra!).sort()).toEqual(Object.keys(alone[0].snapshot().params).filter((n) => alone[0].snapshot().params[n].shape.length === 2).sort());
        } finally {
          group.dispose();
          aloneGroup.dispose();
        }
      });
    }

    it('measures mod-mul (residues in the discrete logarithm\'s order) and S5 (irreps) as the host engine does, spectra included', async () => {
      for (const [task, arch] of [['mod-mul', 'transformer'], ['mod-mul', 'mlp'], ['s5', 'mlp']] as const) {
        const config = parseRunConfig({ ...tiny, task, arch, ...(task === 's5' ? { p: 5 } : {}) });
        const group = await WgslGroup.create([{ config }, { config: { ...config, seed: 9 } }]);
        try {
          for (let s = 0; s < 3; s++) await group.trainStep();
          const records = await group.evaluate([0, 1], true);
          for (const i of [0, 1]) {
            const c = i ? { ...config, seed: 9 } : config;
            const t = new Trainer(c, datasetOf(c), await group.snapshot(i), {});
            expectSameRecord(records[i], await t.evaluate(true), 1e-4);
            t.dispose();
          }
        } finally {
          group.dispose();
        }
      }
    });

    it('gives each slice the golden values: loss, and parameters after three AdamW steps', async () => {
      await expectGoldenSlice((members, datasets) => WgslGroup.create(members, datasets), 'webgpu');
    });

    it('memorises at the same step as the host engine (T_mem, evaluations every 10 steps)', async () => {
      const config = { ...tiny, steps: 300, seed: 11 };
      const group = await WgslGroup.create([{ config }]);
      const host = new Trainer(config, datasetOf(config));
      const tMem = { wgsl: null as number | null, host: null as number | null };
      try {
        for (let s = 0; s <= 300 && (tMem.wgsl === null || tMem.host === null); s++) {
          if (s % 10 === 0) {
            const [r] = await group.evaluate([0], false);
            const h = await host.evaluate(false);
            if (tMem.wgsl === null && r.train_acc >= config.memThreshold) tMem.wgsl = s;
            if (tMem.host === null && h.train_acc >= config.memThreshold) tMem.host = s;
          }
          await group.trainStep();
          await host.trainStep();
        }
        expect(tMem.host).not.toBeNull();
        expect(tMem.wgsl).toBe(tMem.host);
      } finally {
        group.dispose();
        host.dispose();
      }
    });

    it('counts its dispatches, submits and reads, and so does the device wrapper: a kernel added shows up', async () => {
      const group = await WgslGroup.create([1, 2].map((seed) => ({ config: { ...tiny, seed } })));
      try {
        const before = { ...dawnCounts };
        for (let s = 0; s < 16; s++) await group.trainStep();
        await group.takeNorms(0);
        const steps = { dispatches: dawnCounts.dispatches - before.dispatches, submits: dawnCounts.submits - before.submits, reads: dawnCounts.reads - before.reads };
        expect(steps.dispatches).toBe(group.counts.dispatches);
        expect(steps.dispatches / 16).toBeLessThanOrEqual(40);
        expect(steps).toMatchObject({ submits: 16 / 8 + 1, reads: 1 }); // two batches of 8 steps, then the norms' one read
        // A group with a penalised run: the penalty's four dispatches a step (μ, C, M, dF += X·M), no more.
        const penalised = await WgslGroup.create([{ config: { ...tiny, seed: 1 } }, { config: { ...tiny, seed: 2, condition: 'mix', mixForm: 'entropy-penalty', mixStrength: 0.1 } }]);
        try {
          const at = penalised.counts.dispatches;
          for (let s = 0; s < 8; s++) await penalised.trainStep();
          await penalised.takeNorms(0);
          expect((penalised.counts.dispatches - at) / 8).toBe(steps.dispatches / 16 + 4);
        } finally {
          penalised.dispose();
        }
        // One more kernel of our own goes through the same counters.
        const ctx = await gpuContext();
        const rec = new Recorder(ctx);
        const out = rec.buffer(4, 'out');
        const d = rec.dispatch('@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = 1.0; }', 'extra', [out], [1, 1, 1]);
        const ctxBefore = ctx.counters.dispatches;
        const wrapped = dawnCounts.dispatches;
        const encoder = ctx.device.createCommandEncoder();
        encode(ctx, encoder, [d, d, d]);
        ctx.device.queue.submit([encoder.finish()]);
        expect(ctx.counters.dispatches - ctxBefore).toBe(3);
        expect(dawnCounts.dispatches - wrapped).toBe(3);
        rec.destroy();
      } finally {
        group.dispose();
      }
    });

    it('reads at most 64 KiB back per run-evaluation at the reference preset, spectrum evaluations included (Dawn\'s own count of mapped bytes)', async () => {
      const config = parseRunConfig({ ...PRESETS.reference, backend: 'webgpu' });
      const group = await WgslGroup.create([{ config }]);
      try {
        await group.trainStep();
        for (const withSpectra of [false, true]) {
          const before = { ...dawnCounts };
          const [record] = await group.evaluate([0], withSpectra);
          expect(record.progress?.key_freqs, 'the progress measures came back').toHaveLength(config.fourierK);
          expect(Object.keys(record.weight_spectra ?? {}).length > 0).toBe(withSpectra);
          const bytes = dawnCounts.readBytes - before.readBytes;
          expect(bytes, `with spectra: ${withSpectra}`).toBeLessThanOrEqual(64 * 1024);
          // Two reads: the results, then the progress measures' two sums.
          expect(dawnCounts.reads - before.reads).toBe(2);
        }
      } finally {
        group.dispose();
      }
    });

    it('takes the entropy penalty and refuses what it has no kernels for, saying why', () => {
      expect(WgslGroup.refusal([{ config: tiny }, { config: { ...tiny, condition: 'mix', mixForm: 'entropy-penalty' } }])).toBeNull();
      expect(WgslGroup.refusal([{ config: tiny }, { config: { ...tiny, beta2: 0.99 } }])).toBe('runs differ in β₁, β₂ or ε');
      expect(WgslGroup.refusal([{ config: tiny }, { config: { ...tiny, p: 13 } }])).toMatch(/differs from run 1 in p/);
    });

    it('fails a group whose work the device refused, in one line, and the next group gets a fresh device', async () => {
      const group = await WgslGroup.create([{ config: tiny }]);
      const ctx = await gpuContext();
      // A bind group the device refuses, outside any error scope (as a bug of ours would be).
      const rec = new Recorder(ctx);
      const refused = new Promise((resolve) => ctx.device.addEventListener('uncapturederror', resolve, { once: true }));
      const d = rec.dispatch('@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = 1.0; }', 'bad', [], [1, 1, 1]);
      expect(d.label).toBe('bad');
      await refused; // the engine's own listener, registered first, has run
      await expect(group.trainStep()).rejects.toThrow(/^the WebGPU device refused our work \(/);
      group.dispose();
      rec.destroy();
      const next = await WgslGroup.create([{ config: tiny }]);
      expect(await gpuContext()).not.toBe(ctx);
      await next.trainStep();
      expect((await next.takeNorms(0)).length).toBe(1);
      next.dispose();
    });

    it('fails a group whose device is lost in one line, and the next group gets a new device', async () => {
      const group = await WgslGroup.create([{ config: tiny }]);
      const ctx = await gpuContext();
      ctx.device.destroy();
      await ctx.device.lost;
      await expect(group.trainStep()).rejects.toThrow(/^the WebGPU device was lost \(destroyed/);
      group.dispose();
      const next = await WgslGroup.create([{ config: tiny }]);
      await next.trainStep();
      expect((await next.takeNorms(0)).length).toBe(1);
      next.dispose();
    });
  });

  describe('WGSL groups through the worker pool', () => {
    const ctx = poolAndLibrary(beforeAll, afterAll);

    it('trains ten groups in a row in one worker, each member its own run', async () => {
      const config = { ...tiny, steps: 20, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 20 };
      for (let g = 0; g < 10; g++) {
        const outcomes = await executeGroup({ libraryDir: ctx.dir, pool: ctx.pool, members: [0, 1].map((k) => ({ config: { ...config, seed: 100 + 2 * g + k, arch: g % 2 ? ('mlp' as const) : ('transformer' as const) } })) });
        expect(outcomes.map((o) => o.status), `group ${g}`).toEqual(['completed', 'completed']);
        if (g === 0) {
          await Library.with(ctx.dir, async (lib) => {
            const run = await lib.getRun(outcomes[0].runId!);
            expect(run.backendNote).toMatch(/run group of 2 \(WGSL/);
            expect((await lib.getStepNorms(outcomes[0].runId!)).length).toBe(21);
          });
        }
      }
    });
  });
} else {
  describe('the WGSL engine without an adapter', () => {
    it('refuses in one line that says why', async () => {
      await expect(WgslGroup.create([{ config: tiny }])).rejects.toThrow(/^[^\n]+$/);
    });
  });
}
