import { fitPowerLaw, forecastPairs, leaveOneSeedOutForecast } from '../analysis/forecast.js';
import { mean } from '../analysis/stats.js';
import type { EventRules, RunTrace } from '../analysis/trace.js';
import type { StudySummary } from './summary.js';

/**
 * C5's row for one task and architecture: the power law fitted on every baseline run at H̃*, and
 * its held-out errors (leave-one-seed-out) beside the two nulls' at the same forecast times
 * (analysis/forecast.ts), averaged over the held-out runs.
 */
export function forecastRow(task: string, arch: string, base: RunTrace[], threshold: number, rules: EventRules): StudySummary['forecast'][number] {
  const fit = fitPowerLaw(forecastPairs(base, threshold, rules));
  const loso = leaveOneSeedOutForecast(base, rules).filter((e) => e.meanRelError !== null);
  const avg = (f: (e: (typeof loso)[number]) => number | null): number | null => {
    const xs = loso.map(f).filter((x): x is number => x !== null);
    return xs.length ? mean(xs) : null;
  };
  const nulls = {
    meanTGrok: { relError: avg((e) => e.nulls.meanTGrok.relError), relErrorToGo: avg((e) => e.nulls.meanTGrok.relErrorToGo) },
    constantToGo: { relError: avg((e) => e.nulls.constantToGo.relError), relErrorToGo: avg((e) => e.nulls.constantToGo.relErrorToGo) },
  };
  const err = avg((e) => e.meanRelError);
  const nullErrors = [nulls.meanTGrok.relError, nulls.constantToGo.relError];
  return {
    task,
    arch,
    fit,
    heldOutMeanRelError: err,
    heldOutMeanRelErrorToGo: avg((e) => e.meanRelErrorToGo),
    heldOutMeanLead: avg((e) => e.meanLead),
    nulls,
    // Below both nulls' errors: the entropy gap adds something a forecast without it lacks.
    beatsNulls: err === null || nullErrors.some((x) => x === null) ? null : nullErrors.every((x) => err < x!),
    runs: loso.length,
  };
}
