import type { CompareData, ThresholdInUse } from '../api.js';
import { analyzeStudy, type TracedRunData } from '../study/analyze.js';
import { detectionReport } from '../study/detection-report.js';
import type { StudySpec } from '../schema/study-spec.js';
import type { RunConfig } from '../schema/run-config.js';
import type { RunSetting } from '../analysis/settings.js';
import { Rng } from '../rng.js';

type Tables = Pick<CompareData, 'threshold' | 'fittedThresholds' | 'necessity' | 'interventions' | 'detection' | 'onset'>;

const ORDER = ['baseline', 'mix', 'norm-matched', 'logit-matched'];

/**
 * The H̃* of the compared runs' configuration: the one the run view draws and the events use, so
 * a run crosses in compare exactly where it crosses in its own view.
 */
export function thresholdInUse(data: readonly TracedRunData[]): ThresholdInUse {
  const counts = new Map<number, number>();
  for (const d of data) counts.set(d.run.config.entropyThreshold, (counts.get(d.run.config.entropyThreshold) ?? 0) + 1);
  if (counts.size === 1) {
    const [value] = counts.keys();
    return { value, source: 'configured', detail: `configured (entropyThreshold of ${data.length === 1 ? 'the run' : `all ${data.length} runs`})` };
  }
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} (${n} run${n === 1 ? '' : 's'})`);
  return { value: null, source: 'configured', detail: `configured, differing: each run judged by its own (${parts.join(', ')})` };
}

/**
 * The necessity, intervention, onset and detection tables of a compare, each setting on its own:
 * an intervention is compared with the baselines of its own setting, a necessity row counts one
 * setting's baselines, and a run that differs in weight decay is never a baseline of another's.
 * A condition whose runs come in several variants (a mix at two strengths) gets one intervention
 * row per variant, each against the same baselines. Crossings are judged at each run's configured
 * H̃* (analyzeStudy's `configured`), the one every other view uses; the fitted H̃* per setting is
 * reported beside it as information. The detection table is over the whole selection: its rows
 * already name the kind and setting of their negatives (detection-report.ts).
 */
export function compareTables(data: TracedRunData[], settings: Map<string, RunSetting>, probe: RunConfig['probe']): Tables {
  const out: Tables = { threshold: thresholdInUse(data), fittedThresholds: [], necessity: [], interventions: [], detection: [], onset: [] };
  const settingOf = (d: TracedRunData): RunSetting => settings.get(d.run.id)!;
  const bySetting = new Map<string, TracedRunData[]>();
  for (const d of data) bySetting.set(settingOf(d).settingKey, [...(bySetting.get(settingOf(d).settingKey) ?? []), d]);
  for (const runs of [...bySetting.values()].sort((a, b) => settingOf(a[0]).setting.localeCompare(settingOf(b[0]).setting))) {
    const setting = settingOf(runs[0]).setting;
    if (!runs.some((d) => d.run.config.condition === 'baseline')) continue;
    // One analysis per variant of the mix runs (just one in the usual case); baselines and matched runs join each.
    const variants = [...new Set(runs.filter((d) => d.run.config.condition === 'mix').map((d) => settingOf(d).variantKey))];
    if (variants.length === 0) variants.push('');
    variants.forEach((variantKey, i) => {
      const subset = runs.filter((d) => d.run.config.condition !== 'mix' || settingOf(d).variantKey === variantKey);
      const mixIds = new Set(subset.filter((d) => d.run.config.condition === 'mix').map((d) => d.run.id));
      // A matched run goes with the variant of the mix run it replays (with the first when that run is not selected).
      const kept = subset.filter((d) => !d.run.config.normTargetRun || d.run.config.condition === 'mix' || mixIds.has(d.run.config.normTargetRun) || (i === 0 && !data.some((o) => o.run.id === d.run.config.normTargetRun)));
      const summary = analyzeStudy(specOf(kept), kept, 0, { probes: false, forecast: false, thresholdResamples: 0, detection: false, onset: i === 0, threshold: 'configured', probe });
      const variant = kept.find((d) => d.run.config.condition === 'mix') ? settingOf(kept.find((d) => d.run.config.condition === 'mix')!).variant : '';
      for (const r of summary.interventions) {
        const rowVariant = r.condition === 'mix' ? variant : '';
        if (i > 0 && r.condition !== 'mix') continue; // matched rows once per setting
        const { arch, condition, n, nBaseline, censored, delayMean, delayCI, p, d, manipulation } = r;
        out.interventions.push({ setting, variant: rowVariant, arch, condition, n, nBaseline, censored, delayMean, delayCI, p, d, manipulation });
      }
      if (i > 0) return;
      for (const t of summary.thresholds) out.fittedThresholds.push({ setting, task: t.task, arch: t.arch, value: t.estimate.threshold, runs: kept.filter((d) => d.run.config.task === t.task && d.run.config.arch === t.arch && d.run.config.condition === 'baseline').length });
      for (const { arch, n, crossed, grokked, grokkedWithoutCrossingFirst, crossedWithoutGrokking } of summary.necessity) out.necessity.push({ setting, arch, n, crossed, grokked, grokkedWithoutCrossingFirst, crossedWithoutGrokking });
      for (const { task, arch, probe: p, threshold, band, n, place, leads, testAccAtCross, chance } of summary.onset) {
        out.onset.push({ setting, task, arch, probe: p, threshold, band, n, place, leadRiseMedian: leads.T_rise.median, leadGrokMedian: leads.T_grok.median, testAccAtCrossMedian: testAccAtCross.median, chance });
      }
    });
  }
  out.interventions.sort((a, b) => a.setting.localeCompare(b.setting) || a.arch.localeCompare(b.arch) || ORDER.indexOf(a.condition) - ORDER.indexOf(b.condition) || a.variant.localeCompare(b.variant));
  const first = data[0].run.config;
  out.detection = detectionReport(
    data,
    data.map((d) => d.trace),
    probe,
    { memThreshold: first.memThreshold, grokThreshold: first.grokThreshold, crossPersistence: first.crossPersistence, alarmFrom: 'memorisation' },
    new Rng(0, 0x5eed),
  );
  return out;
}

/** The spec analyzeStudy reads its tasks, archs, conditions and seeds from (a compare is no study). */
function specOf(data: TracedRunData[]): StudySpec {
  const conditions = [...new Set(data.map((d) => d.run.config.condition))].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  return {
    version: 1,
    name: 'compare',
    preset: 'quick',
    overrides: {},
    tasks: [...new Set(data.map((d) => d.run.config.task))],
    archs: [...new Set(data.map((d) => d.run.config.arch))],
    conditions: conditions as StudySpec['conditions'],
    seeds: [...new Set(data.map((d) => d.run.config.seed))],
    earlyStopEvals: 0,
  };
}
