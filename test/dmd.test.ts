import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { dmdResidual } from '../core/analysis/dmd.js';
import { DMD_SIGNAL, PROGRESS_SIGNALS, UPDATE_GAP_SIGNAL } from '../core/analysis/warning-detector.js';
import { traceOf } from '../core/library/traces.js';
import type { MetricRow } from '../core/library/metrics.js';
import type { RunRecord } from '../core/library/runs.js';
import { logProbQuantiles } from '../core/train/eval/examples.js';
import type { RunTrace } from '../core/analysis/trace.js';
import { PRESETS } from '../core/schema/run-config.js';

/**
 * The Hankel-DMD residual (core/analysis/dmd.ts): near 0 on a sequence a linear system generates,
 * large once a planted change enters the window; the warnings built on it and on the progress
 * measures, oriented as fixed in docs/methods.md; the log-probability quantiles they read.
 */
function linearSequence(T: number, jumpAt: number | null): Float64Array[] {
  // 5 coordinates: two damped rotations and a decay.
  const B = [
    [0.98 * Math.cos(0.3), -0.98 * Math.sin(0.3), 0, 0, 0],
    [0.98 * Math.sin(0.3), 0.98 * Math.cos(0.3), 0, 0, 0],
    [0, 0, 0.95 * Math.cos(0.7), -0.95 * Math.sin(0.7), 0],
    [0, 0, 0.95 * Math.sin(0.7), 0.95 * Math.cos(0.7), 0],
    [0, 0, 0, 0, 0.9],
  ];
  const rng = new Rng(4);
  let x = Array.from({ length: 5 }, () => rng.normal());
  const cols = Array.from({ length: 5 }, () => new Float64Array(T));
  for (let t = 0; t < T; t++) {
    x.forEach((v, c) => (cols[c][t] = v + (jumpAt !== null && t >= jumpAt ? 3 : 0)));
    x = B.map((row) => row.reduce((s, b, k) => s + b * x[k], 0));
  }
  return cols;
}

describe('the Hankel-DMD residual', () => {
  it('is near 0 on a linear system, NaN before its first full window', () => {
    const r = dmdResidual(linearSequence(60, null));
    expect(Array.from(r.subarray(0, 19)).every(Number.isNaN)).toBe(true);
    for (let t = 19; t < 60; t++) expect(r[t], `t=${t}`).toBeLessThan(1e-4);
  });

  it('jumps once a planted change enters the window, and only then', () => {
    const r = dmdResidual(linearSequence(60, 40));
    const before = Math.max(...Array.from(r.subarray(19, 40)));
    const after = Math.max(...Array.from(r.subarray(40, 60)));
    expect(before).toBeLessThan(1e-4);
    expect(after).toBeGreaterThan(1e-2);
    expect(after / before).toBeGreaterThan(1e3);
  });
});

describe('the published warnings as detector signals', () => {
  const trace = (scalars: Record<string, Float64Array>): RunTrace => ({ id: 'r', steps: new Float64Array(60), scalars }) as unknown as RunTrace;

  it('reads the DMD residual from the stored quantiles, oriented to fall', () => {
    const cols = linearSequence(60, 40);
    const scalars = Object.fromEntries([10, 25, 50, 75, 90].map((q, k) => [`logprob_q/${q}`, cols[k]]));
    const falling = DMD_SIGNAL.falling(trace(scalars))!;
    const residual = dmdResidual(cols);
    for (let t = 19; t < 60; t++) expect(falling[t]).toBe(-residual[t]);
    expect(DMD_SIGNAL.natural(-0.5)).toBe(0.5);
    expect(DMD_SIGNAL.falling(trace({}))).toBeNull();
  });

  it('takes the restricted loss as it is and the excluded loss negated (it rises)', () => {
    const r = Float64Array.from([3, 2, 1]);
    const e = Float64Array.from([1, 2, 3]);
    const [restricted, excluded] = PROGRESS_SIGNALS;
    expect(Array.from(restricted.falling(trace({ 'progress/restricted_loss': r }))!)).toEqual([3, 2, 1]);
    expect(Array.from(excluded.falling(trace({ 'progress/excluded_loss': e }))!)).toEqual([-1, -2, -3]);
    expect(excluded.natural(-2)).toBe(2);
    expect(restricted.falling(trace({}))).toBeNull();
  });

  it('reads the spectral-edge gap negated (it grows), from a trace that has it from its first record on', () => {
    // Stored rows: the gap needs W updates, so the step-0 evaluation has none; the α of spectrum
    // evaluations and the final-K losses of progress snapshots are not every evaluation's.
    const rows = [0, 10, 20].map((step) => ({
      step, train_acc: 1, test_acc: 0, train_loss: 0, test_loss: 1, weight_norm: 1, entropy: {}, eff_rank: {}, top5_share: {}, fourier_topk_share: null, fourier_gini: null,
      scalars: { logit_scale: step, ...(step > 0 ? { update_gap: step / 10 + 1 } : {}), ...(step !== 10 ? { 'alpha/W_in': 2, 'progress_final/restricted_loss': 1 } : {}) },
    })) as MetricRow[];
    const run = { id: 'r', config: { ...PRESETS.quick } } as unknown as RunRecord;
    const t = traceOf(run, rows, 'resid.final');
    expect(Object.keys(t.scalars!).sort()).toEqual(['logit_scale', 'update_gap']);
    expect(Array.from(t.scalars!.update_gap)).toEqual([NaN, 2, 3]);
    expect(Array.from(UPDATE_GAP_SIGNAL.falling(t)!)).toEqual([NaN, -2, -3]);
    expect(UPDATE_GAP_SIGNAL.natural(-2)).toBe(2);
    expect(UPDATE_GAP_SIGNAL.falling(trace({}))).toBeNull();
    // One evaluation without it among twenty (a window of rank one) leaves a NaN, not a lost column.
    const long = Array.from({ length: 20 }, (_, k) => ({ ...rows[1], step: 10 * k, scalars: k === 7 ? {} : { update_gap: k } })) as MetricRow[];
    const g = traceOf(run, long, 'resid.final').scalars!.update_gap;
    expect(Number.isNaN(g[7])).toBe(true);
    expect(g[8]).toBe(8);
  });
});

describe('log-probability quantiles', () => {
  it('are quantiles of −loss, linear between order statistics', () => {
    const q = logProbQuantiles(Float32Array.from([4, 0, 2, 1, 3]));
    expect(q[0]).toBeCloseTo(-3.6, 12);
    expect(q[2]).toBeCloseTo(-2, 12);
    expect(q[4]).toBeCloseTo(-0.4, 12);
  });
});
