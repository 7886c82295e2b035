import { traceOf } from '../library/traces.js';
import { Rng } from '../rng.js';
import type { StudySpec } from '../schema/study-spec.js';
import { analyzeStudy, type AnalysisInput, type StudySummary, type TracedRunData } from './analyze.js';
import type { Claims } from './summary.js';
import type { AlarmFrom } from '../analysis/events.js';

/**
 * How firmly each verdict stands on the seeds that produced it: the share of seed-bootstrap
 * resamples (seeds drawn with replacement; a seed brings all its runs, every task, architecture
 * and condition) whose analysis reaches the same verdict. Five seeds could flip C2 between two
 * CPUs whose rounding differed (docs/science.md); a verdict below UNSTABLE_BELOW is printed as
 * unstable. A seed drawn twice keeps its number, so leave-one-seed-out holds both copies out
 * together and a run is never fitted on its own twin.
 */
export const STABILITY_RESAMPLES = 50;
export const UNSTABLE_BELOW = 0.8;

export type ClaimKey = keyof Claims;

export function claimStability(spec: StudySpec, data: AnalysisInput[], claims: Claims, resamples = STABILITY_RESAMPLES, seed = 0, alarmFrom?: AlarmFrom): Record<ClaimKey, number | null> {
  const keys = Object.keys(claims) as ClaimKey[];
  if (resamples <= 0 || data.length === 0) return Object.fromEntries(keys.map((k) => [k, null])) as Record<ClaimKey, number | null>;
  // Traces once (with Fourier shares, for C8): every resample reuses them and their memoised events.
  const probe = data[0].run.config.probe;
  const traced: TracedRunData[] = data.map((d) => ('trace' in d ? d : { key: d.key, run: d.run, trace: traceOf(d.run, d.metrics, probe) }));
  const bySeed = new Map<number, TracedRunData[]>();
  for (const d of traced) bySeed.set(d.run.config.seed, [...(bySeed.get(d.run.config.seed) ?? []), d]);
  const seeds = [...bySeed.keys()].sort((a, b) => a - b);
  const rng = Rng.derive(seed, 'verdict-stability');
  const same = Object.fromEntries(keys.map((k) => [k, 0])) as Record<ClaimKey, number>;
  for (let b = 0; b < resamples; b++) {
    const sample = Array.from({ length: seeds.length }, () => seeds[rng.int(seeds.length)]).flatMap((s) => bySeed.get(s)!);
    let judged: StudySummary['claims'];
    try {
      judged = analyzeStudy(spec, sample, b + 1, { probes: false, thresholdResamples: 0, detection: false, onset: false, alarmFrom }).claims;
    } catch {
      continue; // a resample that cannot be analysed agrees with nothing
    }
    for (const k of keys) if (judged[k].verdict === claims[k].verdict) same[k]++;
  }
  return Object.fromEntries(keys.map((k) => [k, same[k] / resamples])) as Record<ClaimKey, number | null>;
}

/** The verdict as a person reads it: "reproduced", or "reproduced, unstable: 0.62". */
export function verdictText(c: { verdict: string; stability?: number | null }): string {
  return c.stability !== undefined && c.stability !== null && c.stability < UNSTABLE_BELOW ? `${c.verdict}, unstable: ${c.stability.toFixed(2)}` : c.verdict;
}
