import { z } from 'zod';
import { CONDITIONS, PRESETS } from './run-config.js';
import { TASK_NAMES } from '../tasks/groups.js';
import { ARCHS } from '../models/config.js';
import { GrokscopeError } from '../errors.js';

/**
 * A study: tasks × architectures × conditions × seeds on one base configuration. `norm-matched`
 * and `logit-matched` runs replay the `mix` run of the same task, architecture and seed, so a
 * study with either must also have `mix`.
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
    /** Runs of one shape trained as one run group; absent: the rule of core/runs/group-size.ts. */
    groupSize: z.number().int().min(1).max(1000).optional(),
    /**
     * Detection controls: other settings (e.g. weight decay 0) whose baseline runs, one per task ×
     * architecture × seed, join only the detection table — the runs that should not grok, so that
     * the warning's false alarms are measured. They take no part in any verdict.
     */
    controls: z
      .array(z.object({ name: z.string().regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and "-" only'), overrides: z.record(z.string(), z.unknown()) }).strict())
      .max(10)
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const matched of ['norm-matched', 'logit-matched'] as const) {
      if (s.conditions.includes(matched) && !s.conditions.includes('mix')) ctx.addIssue({ code: 'custom', path: ['conditions'], message: `'${matched}' needs 'mix' in the same study` });
    }
    const names = (s.controls ?? []).map((c) => c.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['controls'], message: 'control names must differ' });
    if (!s.conditions.includes('baseline')) ctx.addIssue({ code: 'custom', path: ['conditions'], message: "a study needs 'baseline' runs to compare against" });
  });

export type StudySpec = z.infer<typeof StudySpecSchema>;

/** A study spec that cannot be used; the message names the problem (for CLI and workbench alike). */
export class StudySpecError extends GrokscopeError {}
