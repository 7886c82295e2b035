/**
 * Levenberg–Marquardt for the one model we fit, f(g) = C₁·g^γ + C₂ (docs/methods.md, "Forecast"),
 * with its analytic Jacobian [g^γ, C₁·g^γ·ln g, 1] and a 3×3 normal-equation solve per step.
 *
 * Why not ml-levenberg-marquardt (which we used before, and which the tests keep as the
 * reference): it differentiates numerically and allocates matrices per iteration, ~1 ms per pair
 * per fit with our four starting points (measured: 8,000 pairs took 6.5 s). Runs of 10,000
 * evaluations made the live forecast, which fits once per held-out reference seed, run for many
 * minutes. This one does the same optimisation in O(pairs) per iteration without allocation.
 *
 * Marquardt's damping: solve (JᵀJ + λ·diag(JᵀJ)) δ = Jᵀr; accept the step when the sum of
 * squares falls (λ ÷ 10), else λ × 10. Bounds: a parameter sitting on its bound whose step
 * points outwards is held fixed for that step (the others are solved without it), then every
 * parameter is clamped — plain clamping left a fit pinned at γ = 8 creeping for all 300
 * iterations (measured: 21 s for one live-forecast model of 20 runs). Stops after
 * `maxIterations`, when λ exceeds 1e16 (no step helps), or when an accepted step improves the
 * sum of squares by less than `tolerance` relative.
 */
export interface LmOptions {
  initial: [number, number, number];
  min: [number, number, number];
  max: [number, number, number];
  maxIterations?: number;
  tolerance?: number;
}

export interface LmResult {
  params: [number, number, number];
  sse: number;
  iterations: number;
}

/** g^γ as exp(γ·ln g) from precomputed logarithms: one exp per pair instead of pow and log. */
function sumOfSquares(lnx: Float64Array, y: ArrayLike<number>, c1: number, gamma: number, c2: number): number {
  let s = 0;
  for (let i = 0; i < lnx.length; i++) {
    const r = y[i] - (c1 * Math.exp(gamma * lnx[i]) + c2);
    s += r * r;
  }
  return s;
}

/** Solve the 3×3 system m·d = v by Cramer's rule; null when singular. */
function solve3(m: number[], v: number[]): [number, number, number] | null {
  const [a, b, c, d, e, f, g, h, k] = m;
  const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  if (!Number.isFinite(det) || det === 0) return null;
  const x0 = (v[0] * (e * k - f * h) - b * (v[1] * k - f * v[2]) + c * (v[1] * h - e * v[2])) / det;
  const x1 = (a * (v[1] * k - f * v[2]) - v[0] * (d * k - f * g) + c * (d * v[2] - v[1] * g)) / det;
  const x2 = (a * (e * v[2] - v[1] * h) - b * (d * v[2] - v[1] * g) + v[0] * (d * h - e * g)) / det;
  return [x0, x1, x2];
}

export function fitPowerLawLm(x: ArrayLike<number>, y: ArrayLike<number>, o: LmOptions): LmResult {
  const maxIterations = o.maxIterations ?? 300;
  const tolerance = o.tolerance ?? 1e-10;
  const clamp = (v: number, i: number): number => Math.min(o.max[i], Math.max(o.min[i], v));
  const lnx = Float64Array.from({ length: Math.min(x.length, y.length) }, (_, i) => Math.log(x[i]));
  let p: [number, number, number] = [clamp(o.initial[0], 0), clamp(o.initial[1], 1), clamp(o.initial[2], 2)];
  let sse = sumOfSquares(lnx, y, p[0], p[1], p[2]);
  let lambda = 1e-2;
  let iterations = 0;
  const jtj = new Array<number>(9);
  const jtr = new Array<number>(3);
  while (iterations < maxIterations && Number.isFinite(sse)) {
    iterations++;
    jtj.fill(0);
    jtr.fill(0);
    const [c1, gamma, c2] = p;
    for (let i = 0; i < lnx.length; i++) {
      const pow = Math.exp(gamma * lnx[i]);
      const j0 = pow;
      const j1 = c1 * pow * lnx[i];
      const r = y[i] - (c1 * pow + c2);
      jtj[0] += j0 * j0;
      jtj[1] += j0 * j1;
      jtj[2] += j0;
      jtj[4] += j1 * j1;
      jtj[5] += j1;
      jtj[8] += 1;
      jtr[0] += j0 * r;
      jtr[1] += j1 * r;
      jtr[2] += r;
    }
    jtj[3] = jtj[1];
    jtj[6] = jtj[2];
    jtj[7] = jtj[5];
    let accepted = false;
    while (lambda <= 1e16) {
      const damped = jtj.slice();
      for (const d of [0, 4, 8]) damped[d] += lambda * (jtj[d] || 1);
      let step = solve3(damped, jtr);
      // Hold parameters on a bound whose step points outwards, and solve for the others.
      for (let pass = 0; pass < 3 && step; pass++) {
        const held = [0, 1, 2].filter((i) => (p[i] <= o.min[i] && step![i] < 0) || (p[i] >= o.max[i] && step![i] > 0));
        if (held.length === 0) break;
        const m = damped.slice();
        const v = jtr.slice();
        for (const i of held) {
          for (let k = 0; k < 3; k++) m[3 * i + k] = m[3 * k + i] = 0;
          m[4 * i] = 1;
          v[i] = 0;
        }
        step = solve3(m, v);
      }
      if (step) {
        const q: [number, number, number] = [clamp(c1 + step[0], 0), clamp(gamma + step[1], 1), clamp(c2 + step[2], 2)];
        const s = sumOfSquares(lnx, y, q[0], q[1], q[2]);
        if (Number.isFinite(s) && s < sse) {
          const gain = (sse - s) / (sse || 1);
          p = q;
          sse = s;
          lambda = Math.max(lambda / 10, 1e-12);
          accepted = true;
          if (gain < tolerance) return { params: p, sse, iterations };
          break;
        }
      }
      lambda *= 10;
    }
    if (!accepted) break;
  }
  return { params: p, sse, iterations };
}
