import { fitPowerLaw, forecastPairs, leaveOneSeedOutForecast, onlineForecast, type PowerLawFit } from './forecast.js';
import { quantile } from './stats.js';
import { bestThreshold } from './threshold.js';
import type { EventRules, RunTrace } from './trace.js';

/**
 * The onset forecast for a run in progress (C5's online forecaster, made usable on a live run):
 * the power law (and H̃*, unless given) is fitted on *other* completed runs of the same setting (the reference),
 * never on the run itself; the interval comes from how wrong the same procedure was on the
 * reference runs when each was held out (80th percentile of their mean relative errors e):
 * T_grok ∈ [T̂/(1+e), T̂/(1−e)].
 */
export interface LiveForecast {
  threshold: number;
  fit: PowerLawFit;
  referenceRuns: number;
  /** Held-out relative error used for the interval (null: too few reference runs to say). */
  relError: number | null;
  points: { step: number; predicted: number; lo: number | null; hi: number | null }[];
}

/** What a live forecast needs from the reference runs alone: the same for every target run. */
export interface ForecastModel {
  threshold: number;
  fit: PowerLawFit;
  referenceRuns: number;
  relError: number | null;
}

/**
 * H̃*, the power law and the held-out error of the reference runs (one fit per held-out seed).
 * `fixed`: the H̃* to use (the workbench passes the target run's configured one, so the forecast
 * and the run view judge the run by the same H̃*); absent, fitted on the reference runs.
 */
export function forecastModel(reference: RunTrace[], rules: EventRules, fixed?: number): ForecastModel | null {
  const threshold = fixed ?? bestThreshold(reference, rules);
  if (threshold === null) return null;
  const fit = fitPowerLaw(forecastPairs(reference, threshold, rules));
  if (!fit) return null;
  const errors = reference.length >= 3 ? leaveOneSeedOutForecast(reference, rules, fixed).flatMap((e) => (e.meanRelError === null ? [] : [e.meanRelError])) : [];
  const relError = errors.length >= 2 ? quantile(errors, 0.8) : null;
  return { threshold, fit, referenceRuns: reference.length, relError };
}

export function applyForecast(model: ForecastModel, target: RunTrace): LiveForecast {
  const e = model.relError;
  const points = onlineForecast(target, model.fit, model.threshold).map((f) => ({
    step: f.step,
    predicted: f.predicted,
    lo: e === null ? null : f.predicted / (1 + e),
    hi: e === null || e >= 1 ? null : f.predicted / (1 - e),
  }));
  return { ...model, points };
}

export function liveForecast(target: RunTrace, reference: RunTrace[], rules: EventRules): LiveForecast | null {
  const model = forecastModel(
    reference.filter((r) => r.id !== target.id),
    rules,
  );
  return model ? applyForecast(model, target) : null;
}
