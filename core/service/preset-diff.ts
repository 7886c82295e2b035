import type { RunDetail } from '../api.js';
import type { Library, RunRecord } from '../library/library.js';
import { ABSENT_MEANS, PRESETS, RunConfigSchema } from '../schema/run-config.js';

/**
 * How a run's configuration departs from the preset it names (config.preset): what the run view
 * highlights, so that a weight-decay-0 run no longer looks like any baseline. Compared against
 * today's definition of the preset: a preset changed since the run was recorded (quick's p 31 →
 * 47 on 2026-11-30) shows the change as a difference, which is what the run's numbers need read
 * with.
 */
export interface PresetDifference {
  field: string;
  /** The run's value; null where its config lacks the field (a field whose absence means a value, temperature and initScale 1, init 'normal-fan-in', has that value). */
  value: unknown;
  /** The preset's value, the same way. */
  preset: unknown;
}

/**
 * Fields never counted as unlike the preset: the preset's own name; the seeds, which vary by
 * replicate, not by setting (compare groups by every field but the seed, for the same reason); and
 * normTargetRun, the mix run a matched condition replays, implied by that condition (which differs
 * from the preset's baseline already).
 */
const NOT_SETTINGS = new Set(['preset', 'seed', 'splitSeed', 'normTargetRun']);


/** The schema's field order (task, p, train fraction, model, optimiser, budget, …), which reads better than a stored config's. */
const SCHEMA_ORDER = Object.keys(RunConfigSchema.shape);

/** Fields in the schema's order, then any the schema does not know (from an older or newer Grokscope) by name. */
function ordered(fields: Iterable<string>): string[] {
  const set = new Set(fields);
  return [...SCHEMA_ORDER.filter((f) => set.has(f)), ...[...set].filter((f) => !SCHEMA_ORDER.includes(f)).sort()];
}

/** A config with its keys in the schema's order (for the run view's table). */
export function orderedConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(ordered(Object.keys(config)).map((k) => [k, config[k]]));
}

/** The fields where a run differs from its preset, in the schema's order; null when it names no preset we know (none, or e.g. an external run's 'external'). */
export function presetDiff(config: Record<string, unknown>): PresetDifference[] | null {
  const name = config.preset;
  if (typeof name !== 'string' || !Object.hasOwn(PRESETS, name)) return null;
  const preset = PRESETS[name as keyof typeof PRESETS] as Record<string, unknown>;
  const valueOf = (c: Record<string, unknown>, f: string): unknown => c[f] ?? ABSENT_MEANS[f] ?? null;
  const out: PresetDifference[] = [];
  for (const field of ordered([...Object.keys(config), ...Object.keys(preset)])) {
    if (NOT_SETTINGS.has(field)) continue;
    const value = valueOf(config, field);
    const base = valueOf(preset, field);
    if (JSON.stringify(value) !== JSON.stringify(base)) out.push({ field, value, preset: base });
  }
  return out;
}

/** What the run view shows of a run's configuration: the config in schema order, its study, its departures from its preset. */
export async function configView(lib: Library, run: RunRecord): Promise<Pick<RunDetail, 'config' | 'study' | 'presetDiff'>> {
  const config = run.config as unknown as Record<string, unknown>;
  return { config: orderedConfig(config), study: await lib.studyOfRun(run.id), presetDiff: presetDiff(config) };
}
