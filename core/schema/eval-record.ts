import type { ProbeName } from '../models/config.js';
import type { SpectralSummary } from '../spectra/entropy.js';

/** What one evaluation measures (docs/methods.md, "Evaluations"). */
export interface EvalRecord {
  step: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  weight_norm: number;
  tensor_norms: Record<string, number>;
  probes: Partial<Record<ProbeName, SpectralSummary>>;
  /**
   * The embedding's concentration in the group's Fourier basis: over Z/pZ the top-fourierK
   * frequencies' share and the Gini over frequencies; over S5 the strongest irrep's share and the
   * Gini over irreps, each irrep's power per dimension² (docs/methods.md). Null in external runs
   * without an embedding.
   */
  fourier: { topk_share: number; gini: number } | null;
  /**
   * The output's scale (docs/methods.md, "Logit scale"), over every example of the task: mean
   * standard deviation of an example's logits across classes, mean largest softmax probability,
   * and the mean margin of the correct logit over the largest other one on the training pairs.
   * Absent in runs recorded before 2026-11-30 and in external runs.
   */
  logits?: { scale: number; max_softmax: number; train_margin: number };
  /** Effective rank exp(H) of the ESD of the embedding and the unembedding, every evaluation (docs/methods.md). */
  weight_erank?: { embed: number; W_U: number };
  /** Per 2-D weight matrix, every `spectrumEvery` steps: its ESD's heavy-tail α (null: too few eigenvalues) and correlation traps (docs/methods.md). */
  weight_spectra?: Record<string, { alpha: number | null; traps: number }>;
  /**
   * Nanda's progress measures (docs/methods.md, "Progress measures"), for mod-add, mod-sub, mod-mul and mod-div:
   * cross-entropy of the logits restricted to the key frequencies on the test pairs, of the logits
   * with them excluded on the training pairs, the key frequencies (the embedding's fourierK
   * strongest, strongest first), the logits' power share per frequency w = 1…⌊m/2⌋ (m: the residue's modulus, p or p − 1), and the
   * Gini over frequencies of the neuron-to-logit map W_out·W_U in the Fourier basis.
   */
  progress?: { restricted_loss: number; excluded_loss: number; key_freqs: number[]; logit_power: number[]; neuron_logit_gini?: number };
  /**
   * The spectral-edge gap of the last UPDATE_WINDOW parameter updates before this evaluation and
   * its k* (docs/methods.md, "Published warnings"); absent where the engine keeps no updates, the
   * evaluations are closer than the window, or fewer updates than the window exist (step < W).
   */
  update_edge?: { gap: number; k: number };
  /**
   * Quantiles (LOGPROB_QUANTILES) of the per-example log-probability of the correct class over
   * every pair: the coordinates of the DMD residual warning (docs/methods.md, "Published warnings").
   */
  logprob_quantiles?: number[];
  /** Full eigenvalue spectra (descending), present every `spectrumEvery` steps. */
  spectra?: Partial<Record<ProbeName, number[]>>;
}

/** The quantiles stored as `logprob_quantiles` (eval_scalars `logprob_q/10` …). */
export const LOGPROB_QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9] as const;

/** How many of the last parameter updates the spectral-edge gap reads (W; fixed before any study used it). */
export const UPDATE_WINDOW = 10;

/**
 * Nanda's protocol, computed once a run of a residue task ends (core/train/final-progress.ts):
 * restricted and excluded loss at its progress snapshots, all with the key frequencies of its last
 * evaluation. Stored as eval_scalars `progress_final/restricted_loss`, `progress_final/excluded_loss`
 * at each snapshot's step and `progress_final/key_freq/k` at the last.
 */
export interface FinalProgress {
  /** The key frequencies of the run's last evaluation, strongest first. */
  keyFreqs: number[];
  rows: { step: number; restricted_loss: number; excluded_loss: number }[];
}

/** A run's FinalProgress as eval_scalars rows [step, name, value]. */
export function finalProgressScalars(f: FinalProgress): [number, string, number][] {
  const out: [number, string, number][] = [];
  for (const r of f.rows) out.push([r.step, 'progress_final/restricted_loss', r.restricted_loss], [r.step, 'progress_final/excluded_loss', r.excluded_loss]);
  const last = f.rows[f.rows.length - 1];
  if (last) f.keyFreqs.forEach((w, k) => out.push([last.step, `progress_final/key_freq/${k + 1}`, w]));
  return out;
}
