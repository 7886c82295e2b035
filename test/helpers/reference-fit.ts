import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { FIT_BOUNDS, type Pair } from '../../core/analysis/forecast.js';

/** The fit as it was with ml-levenberg-marquardt (numerical Jacobian): the independent reference. */
export function referenceFit(pairs: Pair[]): { params: number[]; sse: number } | null {
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

