/**
 * The Hankel-DMD reconstruction residual (docs/methods.md, "Published warnings"), after Wang et
 * al. (arXiv:2605.08237): at each evaluation, the coordinates x_t (here quantiles of the
 * per-example log-probability of the correct class) of the last `window` evaluations are
 * delay-embedded, h_t = [x_t; x_{t−1}; …; x_{t−delay+1}], a linear map A with h_{t+1} ≈ A·h_t is
 * fitted over the window by least squares (ridge 1e-9 × the mean diagonal of H·Hᵀ, so rank-deficient
 * windows still solve), and the residual ‖H′ − A·H‖_F / ‖H′‖_F is the signal: near 0 while the
 * dynamics stay linear, large where they change. Causal: the value at t uses evaluations ≤ t only.
 * Parameters fixed before any study used them: window 20, delay 2.
 */
export interface DmdOptions {
  window?: number;
  delay?: number;
}

/** Solves S·X = B for X (S symmetric positive definite, D × D; B D × M), in place of B, by Cholesky. */
function choleskySolve(S: Float64Array, B: Float64Array, D: number, M: number): void {
  const L = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = S[i * D + j];
      for (let k = 0; k < j; k++) s -= L[i * D + k] * L[j * D + k];
      L[i * D + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * D + j];
    }
  }
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < D; i++) {
      let s = B[i * M + m];
      for (let k = 0; k < i; k++) s -= L[i * D + k] * B[k * M + m];
      B[i * M + m] = s / L[i * D + i];
    }
    for (let i = D - 1; i >= 0; i--) {
      let s = B[i * M + m];
      for (let k = i + 1; k < D; k++) s -= L[k * D + i] * B[k * M + m];
      B[i * M + m] = s / L[i * D + i];
    }
  }
}

/** The residual at every evaluation (NaN until `window` evaluations exist or where a coordinate is missing). `coords`: one column per coordinate, one entry per evaluation. */
export function dmdResidual(coords: ArrayLike<number>[], o: DmdOptions = {}): Float64Array {
  const window = o.window ?? 20;
  const delay = o.delay ?? 2;
  const q = coords.length;
  const T = q ? coords[0].length : 0;
  const out = new Float64Array(T).fill(NaN);
  const D = q * delay;
  const M = window - delay; // pairs (h_j, h_{j+1}) in the window
  if (M < 1) return out;
  for (let t = window - 1; t < T; t++) {
    // Columns j = 0…M: h at evaluation t − window + delay + j (its delays reach back to t − window + 1).
    const first = t - window + delay;
    const H = new Float64Array(D * (M + 1));
    let finite = true;
    for (let j = 0; j <= M; j++) {
      for (let l = 0; l < delay; l++) {
        for (let c = 0; c < q; c++) {
          const v = coords[c][first + j - l];
          if (!Number.isFinite(v)) finite = false;
          H[(l * q + c) * (M + 1) + j] = v;
        }
      }
    }
    if (!finite) continue;
    // A = H′·Hᵀ·(H·Hᵀ + λI)⁻¹, with H the columns 0…M−1 and H′ the columns 1…M; computed as
    // Aᵀ = (H·Hᵀ + λI)⁻¹·H·H′ᵀ.
    const S = new Float64Array(D * D);
    const R = new Float64Array(D * D); // H·H′ᵀ
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) {
        let s = 0;
        let r = 0;
        for (let j = 0; j < M; j++) {
          s += H[a * (M + 1) + j] * H[b * (M + 1) + j];
          r += H[a * (M + 1) + j] * H[b * (M + 1) + j + 1];
        }
        S[a * D + b] = s;
        R[a * D + b] = r;
      }
    }
    let trace = 0;
    for (let a = 0; a < D; a++) trace += S[a * D + a];
    const lambda = 1e-9 * (trace / D) + 1e-300;
    for (let a = 0; a < D; a++) S[a * D + a] += lambda;
    choleskySolve(S, R, D, D); // R ← Aᵀ
    let num = 0;
    let den = 0;
    for (let j = 0; j < M; j++) {
      for (let a = 0; a < D; a++) {
        let pred = 0;
        for (let b = 0; b < D; b++) pred += R[b * D + a] * H[b * (M + 1) + j];
        const actual = H[a * (M + 1) + j + 1];
        num += (actual - pred) ** 2;
        den += actual * actual;
      }
    }
    out[t] = den > 0 ? Math.sqrt(num / den) : NaN;
  }
  return out;
}
