import { z } from 'zod';
import { CONDITIONS, PRESETS, RunConfigSchema, describeZodError, type RunConfig } from '../config.js';
import { TASK_NAMES } from '../tasks/groups.js';
import { ARCHS } from '../models/config.js';

/**
 * A study: tasks × architectures × conditions × seeds on one base configuration. `norm-matched`
 * runs replay the `mix` run of the same task, architecture and seed, so a study with
 * `norm-matched` must also have `mix`.
 */
export const StudySpecSchema = z
  .object({
    version: z.literal(1).default(1),
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
    preset: z.enum(Object.keys(PRESETS) as [keyof typeof PRESETS, ...(keyof typeof PRESETS)[]]),
    /** RunConfig fields applied to every run, over the preset. */
    overrides: z.record(z.string(), z.unknown()).default({}),
    tasks: z.array(z.enum(TASK_NAMES)).min(1),
    archs: z.array(z.enum(ARCHS)).min(1),
    conditions: z.array(z.enum(CONDITIONS)).min(1),
    seeds: z.array(z.number().int().nonnegative()).min(1),
    /** Stop baseline and norm-matched runs after this many evaluations in a row at test accuracy ≥ the grokking threshold (0 = never). */
    earlyStopEvals: z.number().int().min(0).default(0),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.conditions.includes('norm-matched') && !s.conditions.includes('mix')) {
      ctx.addIssue({ code: 'custom', path: ['conditions'], message: "'norm-matched' needs 'mix' in the same study" });
    }
    if (!s.conditions.includes('baseline')) ctx.addIssue({ code: 'custom', path: ['conditions'], message: "a study needs 'baseline' runs to compare against" });
  });

export type StudySpec = z.infer<typeof StudySpecSchema>;

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
            ...(condition === 'norm-matched' ? { normTargetRun: 'planned' } : {}),
            // A mix run trains its whole budget: its per-step norms are the norm-matched targets.
            earlyStopEvals: condition === 'mix' ? 0 : spec.earlyStopEvals,
          };
          const parsed = RunConfigSchema.safeParse(raw);
          if (!parsed.success) throw new Error(`study ${spec.name}: run ${runKey(task, arch, condition, seed)}: ${describeZodError(parsed.error)}`);
          const { normTargetRun: _placeholder, ...config } = parsed.data;
          runs.push({ key: runKey(task, arch, condition, seed), config, dependsOn: condition === 'norm-matched' ? runKey(task, arch, 'mix', seed) : null });
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
    seeds: [0, 1, 2, 3, 4],
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

/** A study spec that cannot be used; the message names the problem (for CLI and workbench alike). */
export class StudySpecError extends Error {}

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
