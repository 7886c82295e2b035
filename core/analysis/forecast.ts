import { fitPowerLawLm } from './power-law-lm.js';
import { mean } from './stats.js';
import { bestThreshold } from './threshold.js';
import { tGrok, type EventRules, type RunTrace } from './trace.js';

/**
 * The power-law forecast (docs/methods.md, "Forecast"): ΔT = C₁·g^γ + C₂ with g = H̃(t) − H̃* > 0 and ΔT the steps
 * left until grokking, fitted by Levenberg–Marquardt (our own, power-law-lm.ts) on (g, ΔT) pairs
 * pooled from training runs (power-law-lm.ts). The online forecast at an evaluation t is
 * T̂ = t + ΔT̂(g(t)).
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

/**
 * At most this many pairs per run enter a fit, evenly spaced over the run's eligible
 * evaluations. The presets evaluate at most 300 times per run, so this changes nothing for
 * them; a run evaluated 10,000 times would otherwise weigh 30× more than a preset run and make
 * every fit 30× slower, for pairs that differ by one evaluation interval (docs/decisions.md).
 */
export const MAX_PAIRS_PER_RUN = 300;

/** (g, T_grok − t) for every evaluation of a grokked run before T_grok with H̃ above H̃*. */
export function forecastPairs(traces: RunTrace[], threshold: number, rules: EventRules): Pair[] {
  const pairs: Pair[] = [];
  for (const t of traces) {
    const grok = tGrok(t, rules);
    if (grok === null) continue;
    const eligible: number[] = [];
    for (let i = 0; i < t.step.length; i++) {
      if (t.step[i] >= grok || Number.isNaN(t.entropy[i])) continue;
      if (t.entropy[i] - threshold > 0) eligible.push(i);
    }
    const take = Math.min(eligible.length, MAX_PAIRS_PER_RUN);
    for (let k = 0; k < take; k++) {
      const i = eligible[Math.floor((k * eligible.length) / take)];
      pairs.push({ g: t.entropy[i] - threshold, dt: grok - t.step[i] });
    }
  }
  return pairs;
}

/** Starting exponents: LM finds a local optimum and γ moves the curve a lot. */
const GAMMA_STARTS = [0.5, 1, 1.65, 2.5];
export const FIT_BOUNDS = { min: [-1e12, 0.05, -1e9] as [number, number, number], max: [1e12, 8, 1e9] as [number, number, number] };

export function fitPowerLaw(pairs: Pair[]): PowerLawFit | null {
  if (pairs.length < 4) return null;
  const x = Float64Array.from(pairs, (p) => p.g);
  const y = Float64Array.from(pairs, (p) => p.dt);
  const yMean = mean(y);
  const gMean = mean(x);
  let best: { params: number[]; sse: number } | null = null;
  for (const gamma0 of GAMMA_STARTS) {
    const res = fitPowerLawLm(x, y, { initial: [yMean / gMean ** gamma0, gamma0, 0], ...FIT_BOUNDS, maxIterations: 300 });
    if (Number.isFinite(res.sse) && (!best || res.sse < best.sse)) best = res;
  }
  if (!best) return null;
  let sst = 0;
  for (let i = 0; i < y.length; i++) sst += (y[i] - yMean) ** 2;
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

/** A forecast's errors at a run's forecast times: relative to T_grok, and to the time left (T_grok − t). */
export interface ForecastErrors {
  relError: number | null;
  relErrorToGo: number | null;
}

export interface ForecastEvaluation {
  seed: number;
  id: string;
  threshold: number | null;
  fit: PowerLawFit | null;
  /** Mean |T̂ − T_grok| / T_grok over this run's forecast times. */
  meanRelError: number | null;
  /** Mean |T̂ − T_grok| / (T_grok − t) over the same times. */
  meanRelErrorToGo: number | null;
  /**
   * The nulls at the same forecast times (docs/methods.md, "Forecast"): `meanTGrok` predicts the
   * mean T_grok of the training seeds' grokked runs whatever the run shows; `constantToGo`
   * predicts t + c, with c the mean time left over the training pairs (the least-squares
   * constant fitted on the same pairs as the power law).
   */
  nulls: { meanTGrok: ForecastErrors; constantToGo: ForecastErrors };
  /** Mean T_grok − t over forecast times: how early the forecasts came. */
  meanLead: number | null;
  forecasts: number;
}

/** Mean errors of predictions `predict(t)` at the forecast times `times` of a run that grokked at `grok`. */
export function forecastErrors(times: readonly number[], grok: number, predict: (t: number, i: number) => number): ForecastErrors {
  if (times.length === 0) return { relError: null, relErrorToGo: null };
  const miss = times.map((t, i) => Math.abs(predict(t, i) - grok));
  return { relError: mean(miss.map((m) => m / grok)), relErrorToGo: mean(miss.map((m, i) => m / (grok - times[i]))) };
}

/** Leave-one-seed-out: H̃* and the power law from the other seeds, forecasts on this seed's grokked runs, beside the nulls. */
/** `fixed`: judge every fold at this H̃* (the configured one the live forecast uses) instead of fitting it on the other seeds. */
export function leaveOneSeedOutForecast(traces: RunTrace[], rules: EventRules, fixed?: number): ForecastEvaluation[] {
  const seeds = [...new Set(traces.map((t) => t.seed))].sort((a, b) => a - b);
  const out: ForecastEvaluation[] = [];
  for (const seed of seeds) {
    const train = traces.filter((t) => t.seed !== seed);
    const threshold = fixed ?? bestThreshold(train, rules);
    const pairs = threshold === null ? [] : forecastPairs(train, threshold, rules);
    const fit = threshold === null ? null : fitPowerLaw(pairs);
    const trainGroks = train.map((t) => tGrok(t, rules)).filter((g): g is number => g !== null);
    const meanGrok = trainGroks.length ? mean(trainGroks) : NaN;
    const toGo = pairs.length ? mean(pairs.map((p) => p.dt)) : NaN;
    for (const t of traces.filter((x) => x.seed === seed)) {
      const grok = tGrok(t, rules);
      if (grok === null) continue;
      const fc = fit && threshold !== null ? onlineForecast(t, fit, threshold, grok) : [];
      const times = fc.map((f) => f.step);
      const power = forecastErrors(times, grok, (_, i) => fc[i].predicted);
      out.push({
        seed,
        id: t.id,
        threshold,
        fit,
        meanRelError: power.relError,
        meanRelErrorToGo: power.relErrorToGo,
        nulls: {
          meanTGrok: Number.isNaN(meanGrok) ? { relError: null, relErrorToGo: null } : forecastErrors(times, grok, () => meanGrok),
          constantToGo: Number.isNaN(toGo) ? { relError: null, relErrorToGo: null } : forecastErrors(times, grok, (x) => x + toGo),
        },
        meanLead: fc.length ? mean(fc.map((f) => grok - f.step)) : null,
        forecasts: fc.length,
      });
    }
  }
  return out;
}
