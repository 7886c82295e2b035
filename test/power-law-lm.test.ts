import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { describe, expect, it } from 'vitest';
import { FIT_BOUNDS, fitPowerLaw, powerLaw, type Pair } from '../core/analysis/forecast.js';
import { Rng } from '../core/rng.js';

/** The fit as it was with ml-levenberg-marquardt (numerical Jacobian): the independent reference. */
function referenceFit(pairs: Pair[]): { params: number[]; sse: number } | null {
  const x = pairs.map((p) => p.g);
  const y = pairs.map((p) => p.dt);
  const yMean = y.reduce((a, b) => a + b, 0) / y.length;
  const gMean = x.reduce((a, b) => a + b, 0) / x.length;
  const model = ([c1, gamma, c2]: number[]) => (g: number) => c1 * g ** gamma + c2;
  let best: { params: number[]; sse: number } | null = null;
  for (const gamma0 of [0.5, 1, 1.65, 2.5]) {
    const res = levenbergMarquardt({ x, y }, model, {
      initialValues: [yMean / gMean ** gamma0, gamma0, 0],
      minValues: FIT_BOUNDS.min,
      maxValues: FIT_BOUNDS.max,
      maxIterations: 300,
      damping: 1e-2,
      gradientDifference: [1e-3, 1e-4, 1e-3],
      centralDifference: true,
      errorTolerance: 1e-9,
    });
    const sse = y.reduce((s, yi, i) => s + (yi - model(res.parameterValues)(x[i])) ** 2, 0);
    if (Number.isFinite(sse) && (!best || sse < best.sse)) best = { params: res.parameterValues, sse };
  }
  return best;
}

describe('power-law fit (own Levenberg–Marquardt, analytic Jacobian)', () => {
  it('reaches a sum of squares at least as low as ml-levenberg-marquardt on planted problems', () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 24; trial++) {
      const truth = { C1: 10 ** (2 + 3 * rng.uniform()), gamma: 0.5 + 2.5 * rng.uniform(), C2: -500 + 1000 * rng.uniform() };
      const n = [12, 60, 300][trial % 3];
      const noise = [0, 0.05, 0.3][Math.floor(trial / 3) % 3];
      const pairs = Array.from({ length: n }, () => {
        const g = 0.002 + 0.4 * rng.uniform();
        return { g, dt: powerLaw(truth, g) * (1 + noise * rng.normal()) };
      });
      const ours = fitPowerLaw(pairs)!;
      const ref = referenceFit(pairs)!;
      const sse = pairs.reduce((s, p) => s + (p.dt - powerLaw(ours, p.g)) ** 2, 0);
      const scale = pairs.reduce((s, p) => s + p.dt ** 2, 0);
      expect(sse).toBeLessThanOrEqual(ref.sse * (1 + 1e-6) + 1e-12 * scale);
      if (noise === 0) {
        expect(ours.gamma).toBeCloseTo(truth.gamma, 4);
        expect(ours.C1 / truth.C1).toBeCloseTo(1, 4);
        expect(ours.r2).toBeGreaterThan(0.999999);
      }
    }
  });

  it('stays within the bounds and refuses too few pairs', () => {
    const pairs = Array.from({ length: 30 }, (_, i) => ({ g: 0.01 + i * 0.01, dt: 1000 * Math.exp(-40 * (0.01 + i * 0.01)) }));
    const fit = fitPowerLaw(pairs)!;
    expect(fit.gamma).toBeGreaterThanOrEqual(0.05);
    expect(fit.gamma).toBeLessThanOrEqual(8);
    expect(fitPowerLaw(pairs.slice(0, 3))).toBeNull();
  });
});
