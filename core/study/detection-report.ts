import { settingOf as runSetting, varyingSettingFields } from '../analysis/settings.js';
import { TEST_ACC_SIGNAL, TEST_LOSS_SIGNAL, UPDATE_GAP_SIGNAL, DMD_SIGNAL, ENTROPY_SIGNAL, ERANK_SIGNALS, FOURIER_SIGNAL, LOGIT_SCALE_SIGNAL, NORM_SIGNAL, PROGRESS_SIGNALS, detectionRow, type DetectionRow, type WarningSignal } from '../analysis/warning-detector.js';
import { tGrok, type EventRules, type RunTrace } from '../analysis/trace.js';
import { PROBES, type ProbeName } from '../models/config.js';
import type { Rng } from '../rng.js';
import type { AnalysisInput } from './summary.js';
import { isControlKey } from './spec.js';

export type { DetectionRow } from '../analysis/warning-detector.js';

/**
 * The detection table of a study or a compare selection: per task, every signal we measure in
 * every run, scored over all of the task's runs (every architecture and condition: MLP controls,
 * interventions and runs that never grok are the negatives the paper's own design provides).
 * Rows without a single positive or negative are still reported, with null statistics, so a
 * reader sees why there is no AUROC (e.g. every run grokked).
 *
 * Where a task's negatives are of more than one kind — a detection control's setting (its name,
 * spec.controls) or an architecture and condition of the study's own runs ("transformer
 * baseline") — each kind also gets its rows (docs/methods.md, "The warning as a detector"): the
 * negatives are that kind's runs trained to their budget without grokking, the positives the
 * study's own runs that grokked (a control run that groks is in no per-kind row).
 */
export function detectionReport(data: AnalysisInput[], traces: RunTrace[], probe: ProbeName, rules: EventRules, rng: Rng, resamples = 2000): DetectionRow[] {
  const rows: DetectionRow[] = [];
  for (const task of [...new Set(traces.map((t) => t.task))]) {
    const idx = traces.flatMap((t, i) => (t.task === task ? [i] : []));
    const runs = idx.map((i) => ({ trace: traces[i], observedToBudget: data[i].run.stepsDone >= data[i].run.config.steps }));
    const signals: WarningSignal[] = [{ ...ENTROPY_SIGNAL, name: `H̃ ${probe}` }];
    // The other probes' H̃ is in the row objects only (runs given as typed traces carry one probe).
    for (const other of PROBES) {
      if (other === probe) continue;
      const columns = new Map<string, Float64Array>();
      for (const i of idx) {
        const d = data[i];
        if ('metrics' in d && d.metrics.some((m) => m.entropy[other] !== undefined)) columns.set(traces[i].id, Float64Array.from(d.metrics, (m) => m.entropy[other] ?? NaN));
      }
      if (columns.size > 0) signals.push({ name: `H̃ ${other}`, falling: (t) => columns.get(t.id) ?? null, natural: (x) => x });
    }
    signals.push(NORM_SIGNAL);
    if (runs.some((r) => r.trace.fourier)) signals.push(FOURIER_SIGNAL);
    for (const signal of [LOGIT_SCALE_SIGNAL, ...ERANK_SIGNALS, ...PROGRESS_SIGNALS, DMD_SIGNAL, UPDATE_GAP_SIGNAL, TEST_LOSS_SIGNAL, TEST_ACC_SIGNAL]) if (runs.some((r) => signal.falling(r.trace))) signals.push(signal);
    for (const signal of signals) rows.push(detectionRow(task, signal, runs, rules, rng, resamples));
    // Within-setting negatives, the headline (protocol v2): for each setting of the study's own
    // runs (architecture and condition; a control is a setting of its own) with runs that grokked
    // and runs trained to their budget without grokking, those runs alone — a signal cannot
    // separate them by a hyperparameter.
    // A setting is the run's kind and every configuration field but the seed and the run it
    // replays: runs of one kind selected from different configurations (compare, analyze) are
    // different settings; each is numbered when one kind has several.
    const kindOf = (k: number): string => `${negativeKindOf(data[idx[k]].key, traces[idx[k]])}${isControlKey(data[idx[k]].key) ? ' (control)' : ''}`;
    // A setting as compare has it (core/analysis/settings.ts): every configuration field but the
    // seed, the record-keeping and the mix run a matched run replays; named by the fields that
    // differ ("transformer baseline (weightDecay 0)").
    const configs = idx.map((i) => ({ id: data[i].run.id, config: data[i].run.config as unknown as Record<string, unknown> }));
    const fields = varyingSettingFields(configs);
    const words = (k: number): string => {
      const s = runSetting(configs[k].config, fields);
      return [s.setting, s.variant].filter(Boolean).join(' · ');
    };
    const signatureOf = (k: number): string => `${kindOf(k)}\u0000${words(k)}`;
    const signatures = [...new Set(idx.map((_, k) => signatureOf(k)))];
    const labelOf = new Map(signatures.map((sig) => {
      const [kind, setting] = sig.split('\u0000');
      const same = signatures.filter((x) => x.split('\u0000')[0] === kind);
      return [sig, same.length > 1 ? `${kind} (${setting || 'the others'})` : kind];
    }));
    const settingOf = (k: number): string => labelOf.get(signatureOf(k))!;
    const settings = [...new Set(idx.map((_, k) => settingOf(k)))];
    for (const setting of settings) {
      const members = runs.filter((_, k) => settingOf(k) === setting);
      const grokked = members.filter((r) => tGrok(r.trace, rules) !== null).length;
      const failed = members.filter((r) => r.observedToBudget && tGrok(r.trace, rules) === null).length;
      if (grokked === 0 || failed === 0) continue;
      for (const signal of signals) rows.push(detectionRow(task, signal, members, rules, rng, resamples, `within ${setting}`, true));
    }
    const kinds = idx.map((i) => negativeKindOf(data[i].key, traces[i]));
    const negativeKinds = [...new Set(kinds.filter((_, k) => runs[k].observedToBudget && tGrok(traces[idx[k]], rules) === null))];
    if (negativeKinds.length < 2) continue;
    for (const kind of negativeKinds) {
      const kindRuns = runs.flatMap((r, k) => {
        const control = isControlKey(data[idx[k]].key);
        if (kinds[k] === kind) return [control ? { ...r, only: 'negative' as const } : r];
        return control ? [] : [{ ...r, only: 'positive' as const }];
      });
      for (const signal of signals) rows.push(detectionRow(task, signal, kindRuns, rules, rng, resamples, kind));
    }
  }
  return rows;
}

/** A run's kind of negative: its detection control's name, else its architecture and condition. */
function negativeKindOf(key: string, trace: RunTrace): string {
  const control = /baseline@([^/]+)\//.exec(key);
  return control ? control[1] : `${trace.arch} ${trace.condition}`;
}
