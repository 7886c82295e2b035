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

/** The parts of a spec that select this task, architecture and condition (spec.parts; none without parts). */
export function partsOf(spec: StudySpec, task: string, arch: string, condition: string): string[] {
  return (spec.parts ?? []).filter((p) => (p.tasks ?? spec.tasks).includes(task as never) && (p.archs ?? spec.archs).includes(arch as never) && (p.conditions ?? spec.conditions).includes(condition as never)).map((p) => p.name);
}

/** Whether the study plans runs of this task, architecture and condition (with parts: some part selects it). */
function planned(spec: StudySpec, task: string, arch: string, condition: string): boolean {
  return !spec.parts || partsOf(spec, task, arch, condition).length > 0;
}

/** The keys of one part of a study (its runs, not the runs they depend on: runStudy's `only` adds those). */
export function partKeys(spec: StudySpec, part: string): Set<string> {
  const known = (spec.parts ?? []).map((p) => p.name);
  if (!known.includes(part)) throw new StudySpecError(known.length ? `study ${spec.name} has no part '${part}': its parts are ${known.join(', ')}` : `study ${spec.name} has no parts`);
  return new Set(planRuns(spec).filter((r) => !isControlKey(r.key) && partsOf(spec, r.config.task, r.config.arch, r.config.condition).includes(part)).map((r) => r.key));
}

export function planRuns(spec: StudySpec): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const task of spec.tasks) {
    for (const arch of spec.archs) {
      for (const seed of spec.seeds) {
        for (const condition of spec.conditions) {
          if (!planned(spec, task, arch, condition)) continue;
          const raw = {
            ...PRESETS[spec.preset],
            ...spec.overrides,
            ...spec.taskOverrides?.[task],
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
        // With parts, a control stands beside baselines some part plans.
        if (!planned(spec, task, arch, 'baseline')) continue;
        for (const seed of spec.seeds) {
          const key = runKey(task, arch, `baseline@${control.name}`, seed);
          const raw = { ...PRESETS[spec.preset], ...spec.overrides, ...spec.taskOverrides?.[task], ...control.overrides, task, arch, seed, condition: 'baseline', earlyStopEvals: spec.earlyStopEvals };
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

const SEEDS_0_9 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/**
 * Named studies: `quick` is the README's main job on a 2-core CPU; `paper` the paper's experiment
 * at its own scale, for a GPU, registered in docs/preregistration.md (section 5) before any of its
 * runs: a `baselines` part (C1, C2, C6, C7, C8) and an `interventions` part (C3, C4) with the
 * entropy penalty, which blocks the collapse where the orthogonal mix does not (docs/science.md).
 */
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
    seeds: SEEDS_0_9,
    earlyStopEvals: 10,
  },
  paper: {
    version: 1,
    name: 'paper',
    preset: 'reference',
    // λ = 0.1 provisionally: the registered pilot (docs/preregistration.md §5) confirms or replaces it before any paper run.
    overrides: { mixForm: 'entropy-penalty', mixStrength: 0.1 },
    tasks: ['mod-add', 'mod-sub', 'mod-mul', 's5'],
    archs: ['transformer', 'mlp'],
    conditions: ['baseline', 'mix', 'norm-matched', 'logit-matched'],
    seeds: SEEDS_0_9,
    earlyStopEvals: 20,
    parts: [
      { name: 'baselines', about: 'C1, C2, C6, C7, C8: every task and both architectures, baselines only', conditions: ['baseline'] },
      { name: 'interventions', about: 'C3, C4: the entropy penalty and its norm-matched and logit-matched controls on mod-add Transformers', tasks: ['mod-add'], archs: ['transformer'] },
    ],
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
