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
  /** Cyclic tasks only. */
  fourier: { topk_share: number; gini: number } | null;
  /** Full eigenvalue spectra (descending), present every `spectrumEvery` steps. */
  spectra?: Partial<Record<ProbeName, number[]>>;
}
