import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { mean } from './stats.js';
import { bestThreshold } from './threshold.js';
import { tGrok, type EventRules, type RunTrace } from './trace.js';

/**
 * The power-law forecast of SCIENCE.md: ΔT = C₁·g^γ + C₂ with g = H̃(t) − H̃* > 0 and ΔT the steps
 * left until grokking, fitted by Levenberg–Marquardt (ml-levenberg-marquardt) on (g, ΔT) pairs
 * pooled from training runs. The online forecast at an evaluation t is T̂ = t + ΔT̂(g(t)).
 */
export interface PowerLawFit {
  C1: number;
  gamma: number;
  C2: number;
  r2: number;
  n: number;
}

export interface Pair {
  g: number;
  dt: number;
}

export function powerLaw(fit: Pick<PowerLawFit, 'C1' | 'gamma' | 'C2'>, g: number): number {
  return fit.C1 * g ** fit.gamma + fit.C2;
}

/** (g, T_grok − t) for every evaluation of a grokked run before T_grok with H̃ above H̃*. */
export function forecastPairs(traces: RunTrace[], threshold: number, rules: EventRules): Pair[] {
  const pairs: Pair[] = [];
  for (const t of traces) {
    const grok = tGrok(t, rules);
    if (grok === null) continue;
    for (let i = 0; i < t.step.length; i++) {
      const step = t.step[i];
      if (step >= grok || Number.isNaN(t.entropy[i])) continue;
      const g = t.entropy[i] - threshold;
      if (g > 0) pairs.push({ g, dt: grok - step });
    }
  }
  return pairs;
}

export function fitPowerLaw(pairs: Pair[]): PowerLawFit | null {
  if (pairs.length < 4) return null;
  const x = pairs.map((p) => p.g);
  const y = pairs.map((p) => p.dt);
  const yMean = mean(y);
  const gMean = mean(x);
  const model = ([c1, gamma, c2]: number[]) => (g: number) => c1 * g ** gamma + c2;
  let best: { params: number[]; sse: number } | null = null;
  // A few starting exponents: LM finds a local optimum and γ moves the curve a lot.
  for (const gamma0 of [0.5, 1, 1.65, 2.5]) {
    const res = levenbergMarquardt({ x, y }, model, {
      initialValues: [yMean / gMean ** gamma0, gamma0, 0],
      minValues: [-1e12, 0.05, -1e9],
      maxValues: [1e12, 8, 1e9],
      maxIterations: 300,
      damping: 1e-2,
      gradientDifference: [1e-3, 1e-4, 1e-3],
      centralDifference: true,
      errorTolerance: 1e-9,
    });
    const sse = y.reduce((s, yi, i) => s + (yi - model(res.parameterValues)(x[i])) ** 2, 0);
    if (Number.isFinite(sse) && (!best || sse < best.sse)) best = { params: res.parameterValues, sse };
  }
  if (!best) return null;
  const sst = y.reduce((s, yi) => s + (yi - yMean) ** 2, 0);
  const [C1, gamma, C2] = best.params;
  return { C1, gamma, C2, r2: sst > 0 ? 1 - best.sse / sst : NaN, n: pairs.length };
}

export interface OnlineForecast {
  step: number;
  predicted: number;
}

/** Forecasts of the onset at each evaluation of a run whose H̃ is still above H̃*. */
export function onlineForecast(trace: RunTrace, fit: PowerLawFit, threshold: number, until?: number): OnlineForecast[] {
  const out: OnlineForecast[] = [];
  for (let i = 0; i < trace.step.length; i++) {
    const step = trace.step[i];
    if (until !== undefined && step >= until) break;
    if (Number.isNaN(trace.entropy[i])) continue;
    const g = trace.entropy[i] - threshold;
    if (g > 0) out.push({ step, predicted: step + Math.max(0, powerLaw(fit, g)) });
  }
  return out;
}

export interface ForecastEvaluation {
  seed: number;
  id: string;
  threshold: number | null;
  fit: PowerLawFit | null;
  /** Mean |T̂ − T_grok| / T_grok over this run's forecast times. */
  meanRelError: number | null;
  /** Mean T_grok − t over forecast times: how early the forecasts came. */
  meanLead: number | null;
  forecasts: number;
}

/** Leave-one-seed-out: H̃* and the power law from the other seeds, forecasts on this seed's grokked runs. */
export function leaveOneSeedOutForecast(traces: RunTrace[], rules: EventRules): ForecastEvaluation[] {
  const seeds = [...new Set(traces.map((t) => t.seed))].sort((a, b) => a - b);
  const out: ForecastEvaluation[] = [];
  for (const seed of seeds) {
    const train = traces.filter((t) => t.seed !== seed);
    const threshold = bestThreshold(train, rules);
    const fit = threshold === null ? null : fitPowerLaw(forecastPairs(train, threshold, rules));
    for (const t of traces.filter((x) => x.seed === seed)) {
      const grok = tGrok(t, rules);
      if (grok === null) continue;
      const fc = fit && threshold !== null ? onlineForecast(t, fit, threshold, grok) : [];
      out.push({
        seed,
        id: t.id,
        threshold,
        fit,
        meanRelError: fc.length ? mean(fc.map((f) => Math.abs(f.predicted - grok) / grok)) : null,
        meanLead: fc.length ? mean(fc.map((f) => grok - f.step)) : null,
        forecasts: fc.length,
      });
    }
  }
  return out;
}
