import { describe, expect, it } from 'vitest';
import { PRESETS } from '../core/schema/run-config.js';
import type { MetricRow } from '../core/library/library.js';
import { compareRuns } from '../core/runs/reproduce.js';

function rows(shift: number, entropyNoise = 0): MetricRow[] {
  return Array.from({ length: 50 }, (_, i) => ({
    step: i * 20,
    train_acc: Math.min(1, i / 10),
    test_acc: i * 20 >= 600 + shift ? 1 : 0.1,
    train_loss: 1 / (i + 1),
    test_loss: 2 / (i + 1),
    weight_norm: 30 - i / 10,
    entropy: { 'resid.final': 0.9 - i / 100 + (i % 2 ? entropyNoise : -entropyNoise) },
    eff_rank: { 'resid.final': 10 },
    top5_share: { 'resid.final': 0.5 },
    fourier_topk_share: null,
    fourier_gini: 0.25,
  }));
}

const side = (backend: string, tGrok: number | null, metrics: MetricRow[]) => ({
  record: { backend, config: PRESETS.fast, events: { T_mem: 200, T_grok: tGrok, T_grok_50: null, T_grok_99: null, T_cross: null, lead: null } },
  metrics,
});

describe('reproduction verdicts', () => {
  it('same backend: identical only when every number is', () => {
    expect(compareRuns('r', side('wasm', 600, rows(0)), side('wasm', 600, rows(0))).verdict).toBe('identical');
    const changed = rows(0);
    changed[7].entropy['resid.final'] += 1e-12;
    const c = compareRuns('r', side('wasm', 600, rows(0)), side('wasm', 600, changed));
    expect(c.verdict).toBe('differs');
    expect(c.differences).toEqual([expect.stringMatching(/^step 140: entropy\.resid\.final /)]);
    const shorter = compareRuns('r', side('wasm', 600, rows(0)), side('wasm', 600, rows(0).slice(0, 40)));
    expect(shorter.differences[0]).toBe('50 evaluations originally, 40 now');
  });

  it('another backend: T_grok and H̃ within the stated tolerances', () => {
    // evalEvery 20 → T_grok tolerance max(100, 60) = 100 steps; H̃ tolerance 0.05.
    expect(compareRuns('r', side('wasm', 600, rows(0)), side('tensorflow', 680, rows(80, 0.04))).verdict).toBe('within-tolerance');
    const late = compareRuns('r', side('wasm', 600, rows(0)), side('tensorflow', 720, rows(120)));
    expect(late.verdict).toBe('differs');
    expect(late.differences).toEqual(['T_grok 600 originally, 720 now (tolerance 100)']);
    const noisy = compareRuns('r', side('wasm', 600, rows(0)), side('tensorflow', 600, rows(0, 0.06)));
    expect(noisy.verdict).toBe('differs');
    expect(noisy.maxEntropyDiff).toBeCloseTo(0.06, 10);
    expect(compareRuns('r', side('wasm', 600, rows(0)), side('cpu', null, rows(0))).differences).toEqual(['T_grok 600 originally, never now']);
  });
});
