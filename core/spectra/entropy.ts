/**
 * Spectral summaries of a covariance spectrum (docs/methods.md, "Spectral entropy"): eigenvalues clamped at 0, shares
 * p_i = λ_i / Σλ with zero shares dropped, H = −Σ p ln p, normalised H̃ = H / ln(width).
 */
export interface SpectralSummary {
  /** Normalised spectral entropy H̃ ∈ [0, 1]. */
  entropy: number;
  /** Effective rank exp(H). */
  eff_rank: number;
  /** Share of the total variance in the five largest eigenvalues. */
  top5_share: number;
}

export function spectralSummary(eigenvalues: ArrayLike<number>, width: number): SpectralSummary {
  if (width < 2) throw new Error(`normalised entropy needs width ≥ 2 (got ${width})`);
  const lambdas = Array.from(eigenvalues, (v) => (v > 0 ? v : 0)).sort((a, b) => b - a);
  const total = lambdas.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return { entropy: 0, eff_rank: 1, top5_share: 1 };
  let h = 0;
  for (const l of lambdas) {
    if (l <= 0) continue;
    const p = l / total;
    h -= p * Math.log(p);
  }
  const top5 = lambdas.slice(0, 5).reduce((a, b) => a + b, 0);
  return { entropy: h / Math.log(width), eff_rank: Math.exp(h), top5_share: top5 / total };
}
