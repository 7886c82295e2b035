import { ABSENT_MEANS } from '../schema/run-config.js';

/**
 * What makes two runs "the same setting": every configuration field but the seed, so that a
 * group of runs averages over seeds and nothing else (W&B's and Aim's "group by", a long-standing
 * TensorBoard request). A weight-decay-0 run among weight-decay-1 baselines is a setting of its
 * own, never silently pooled into their band or their tables.
 *
 * Left out of a setting, each for a reason:
 * - `seed`, `splitSeed`: what a group averages over.
 * - `arch`, `condition`: dimensions of their own in every view (columns, colours, table rows).
 * - `normTargetRun`: the seed's own mix run that a matched run replays (one per seed by design).
 * - `preset`: a name for values that are all recorded field by field.
 * - `backend`: engines agree to ~2e-7 (docs/benchmarks.md); the numbers are the same setting.
 * - `checkpointEvery`, `spectrumEvery`: what is recorded, not how the model trains.
 * - `earlyStopEvals`: a run stopped after grokking is carried forward at its last value.
 * - `probe`: which H̃ is read is the view's choice (the probe selector), not the run's setting.
 * - `mixForm`, `mixStrength`: read only by `mix` runs, so they distinguish mix runs from one
 *   another (a *variant*) but never a baseline from a baseline.
 */
export const NOT_SETTING_FIELDS: readonly string[] = ['seed', 'splitSeed', 'arch', 'condition', 'normTargetRun', 'preset', 'backend', 'checkpointEvery', 'spectrumEvery', 'earlyStopEvals', 'probe'];

/** Fields only runs of one condition read: they split that condition's runs into variants. */
export const CONDITION_FIELDS: Readonly<Record<string, readonly string[]>> = { mix: ['mixForm', 'mixStrength'] };
const ALL_CONDITION_FIELDS = new Set(Object.values(CONDITION_FIELDS).flat());

type Config = Record<string, unknown>;

/** A setting field's value, what its absence means standing in where the run leaves it out (run-config.ts). */
const fieldValue = (config: Config, f: string): string => valueText(config[f] ?? ABSENT_MEANS[f]);
interface Run {
  id: string;
  config: Config;
}

/** A value as the views write it (canonical JSON for objects; "—" for a field the run lacks). */
export function valueText(v: unknown): string {
  return v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** The fields that distinguish this run's setting (condition fields only where its condition reads them). */
function fieldsOf(config: Config): string[] {
  const own = CONDITION_FIELDS[String(config.condition)] ?? [];
  return Object.keys(config).filter((f) => !NOT_SETTING_FIELDS.includes(f) && (!ALL_CONDITION_FIELDS.has(f) || own.includes(f)));
}

/**
 * The setting fields whose values differ among the runs (a condition's own fields compared among
 * that condition's runs only), in a stable order: these are what a compare can group by.
 */
export function varyingSettingFields(runs: readonly Run[]): string[] {
  const fields = [...new Set(runs.flatMap((r) => fieldsOf(r.config)))].sort();
  return fields.filter((f) => {
    const readers = ALL_CONDITION_FIELDS.has(f) ? runs.filter((r) => (CONDITION_FIELDS[String(r.config.condition)] ?? []).includes(f)) : runs;
    return new Set(readers.map((r) => fieldValue(r.config, f))).size > 1;
  });
}

/**
 * A run's place in a grouping by `fields` (from varyingSettingFields, perhaps coarsened): its
 * *setting* (the fields every condition reads: which baselines an intervention is compared with)
 * and its *variant* (its condition's own fields, e.g. the strength of a mix). Both as a key and
 * as words ("weightDecay 0 · lr 0.001"; "" when the grouping distinguishes nothing).
 */
export interface RunSetting {
  settingKey: string;
  setting: string;
  variantKey: string;
  variant: string;
}

export function settingOf(config: Config, fields: readonly string[]): RunSetting {
  const own = CONDITION_FIELDS[String(config.condition)] ?? [];
  const common = fields.filter((f) => !ALL_CONDITION_FIELDS.has(f));
  const variant = fields.filter((f) => own.includes(f));
  const words = (fs: string[]): string => fs.map((f) => `${f} ${fieldValue(config, f)}`).join(' · ');
  return {
    settingKey: JSON.stringify(common.map((f) => fieldValue(config, f))),
    setting: words(common),
    variantKey: JSON.stringify(variant.map((f) => fieldValue(config, f))),
    variant: words(variant),
  };
}

/** Two configurations of one setting: no setting field differs (a condition's own fields aside). */
export function sameSetting(a: Config, b: Config): boolean {
  const fields = varyingSettingFields([{ id: 'a', config: a }, { id: 'b', config: b }]);
  return settingOf(a, fields).settingKey === settingOf(b, fields).settingKey;
}
