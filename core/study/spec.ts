import { MATCHED_CONDITIONS, PRESETS, RunConfigSchema, describeZodError, type RunConfig } from '../schema/run-config.js';
import { StudySpecError, StudySpecSchema, type StudySpec } from '../schema/study-spec.js';

export interface PlannedRun {
  /** `task/arch/condition/seed`: a run's place in the study. */
  key: string;
  config: Omit<RunConfig, 'normTargetRun'>;
  /** Key of the run this one depends on (norm-matched → mix). */
  dependsOn: string | null;
}

export function runKey(task: string, arch: string, condition: string, seed: number): string {
  return `${task}/${arch}/${condition}/s${seed}`;
}

/** A detection control's key: `task/arch/baseline@NAME/sSEED` (spec.controls). */
export function isControlKey(key: string): boolean {
  return key.includes('@');
}

export function planRuns(spec: StudySpec): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const task of spec.tasks) {
    for (const arch of spec.archs) {
      for (const seed of spec.seeds) {
        for (const condition of spec.conditions) {
          const raw = {
            ...PRESETS[spec.preset],
            ...spec.overrides,
            task,
            arch,
            seed,
            condition,
            ...(MATCHED_CONDITIONS.includes(condition) ? { normTargetRun: 'planned' } : {}),
            // A mix run trains its whole budget: its per-step norms are the norm-matched targets.
            earlyStopEvals: condition === 'mix' ? 0 : spec.earlyStopEvals,
          };
          const parsed = RunConfigSchema.safeParse(raw);
          if (!parsed.success) throw new Error(`study ${spec.name}: run ${runKey(task, arch, condition, seed)}: ${describeZodError(parsed.error)}`);
          const { normTargetRun: _placeholder, ...config } = parsed.data;
          runs.push({ key: runKey(task, arch, condition, seed), config, dependsOn: MATCHED_CONDITIONS.includes(condition) ? runKey(task, arch, 'mix', seed) : null });
        }
      }
    }
  }
  for (const control of spec.controls ?? []) {
    for (const task of spec.tasks) {
      for (const arch of spec.archs) {
        for (const seed of spec.seeds) {
          const key = runKey(task, arch, `baseline@${control.name}`, seed);
          const raw = { ...PRESETS[spec.preset], ...spec.overrides, ...control.overrides, task, arch, seed, condition: 'baseline', earlyStopEvals: spec.earlyStopEvals };
          const parsed = RunConfigSchema.safeParse(raw);
          if (!parsed.success) throw new Error(`study ${spec.name}: run ${key}: ${describeZodError(parsed.error)}`);
          const { normTargetRun: _none, ...config } = parsed.data;
          runs.push({ key, config, dependsOn: null });
        }
      }
    }
  }
  return runs;
}

/** Named studies: `quick` is the README's main job on a 2-core CPU; `paper` the full size for a GPU. */
export const NAMED_STUDIES: Record<'quick' | 'paper', StudySpec> = {
  quick: {
    version: 1,
    name: 'quick',
    preset: 'quick',
    overrides: {},
    tasks: ['mod-add'],
    archs: ['transformer', 'mlp'],
    conditions: ['baseline', 'mix', 'norm-matched'],
    // Ten seeds (the science issue): five let a CPU's rounding flip a verdict.
    seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    earlyStopEvals: 10,
  },
  paper: {
    version: 1,
    name: 'paper',
    preset: 'reference',
    overrides: {},
    tasks: ['mod-add', 'mod-sub', 'mod-mul', 's5'],
    archs: ['transformer', 'mlp'],
    conditions: ['baseline', 'mix', 'norm-matched'],
    seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    earlyStopEvals: 20,
  },
};

/**
 * A study from what a user gave: the name of a named study, or a parsed spec object. `source`
 * names where the object came from (a file), for the message.
 */
export function resolveStudySpec(value: unknown, source?: string): StudySpec {
  if (typeof value === 'string') {
    if (value in NAMED_STUDIES) return NAMED_STUDIES[value as keyof typeof NAMED_STUDIES];
    throw new StudySpecError(`unknown study '${value}': expected ${Object.keys(NAMED_STUDIES).join(' or ')}, or a spec`);
  }
  const parsed = StudySpecSchema.safeParse(value);
  if (!parsed.success) throw new StudySpecError(`invalid study spec${source ? ` ${source}` : ''}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
