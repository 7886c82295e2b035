import { describe, expect, it } from 'vitest';
import { fitPowerLaw, powerLaw } from '../core/analysis/forecast.js';
import { referenceFit } from './helpers/reference-fit.js';
import { Rng } from '../core/rng.js';

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
