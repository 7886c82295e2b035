import type { ProbeName } from '../models/config.js';
import type { SpectralSummary } from '../spectra/entropy.js';

/** What one evaluation measures (docs/methods.md, "Evaluations"). */
export interface EvalRecord {
  step: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  weightNorm: number;
  tensorNorms: Record<string, number>;
  probes: Partial<Record<ProbeName, SpectralSummary>>;
  /** Cyclic tasks only. */
  fourier: { topKShare: number; gini: number } | null;
  /** Full eigenvalue spectra (descending), present every `spectrumEvery` steps. */
  spectra?: Partial<Record<ProbeName, number[]>>;
}
