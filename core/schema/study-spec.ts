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
    /**
     * Fields over `overrides` for one task's runs: a task that needs its own setting to grok
     * after a plateau within the budget (S5 in the paper study, chosen by a registered pilot).
     */
    taskOverrides: z.partialRecord(z.enum(TASK_NAMES), z.record(z.string(), z.unknown())).optional(),
    /**
     * Named parts of the study, each a selection of tasks × architectures × conditions (absent
     * lists: all of the study's). With parts, the study plans only the runs some part selects,
     * and `study SPEC --part NAME` trains one part alone. A run selected by two parts (the paper
     * study's mod-add Transformer baselines) is planned, trained and stored once.
     */
    parts: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and "-" only'),
            about: z.string().optional(),
            tasks: z.array(z.enum(TASK_NAMES)).min(1).optional(),
            archs: z.array(z.enum(ARCHS)).min(1).optional(),
            conditions: z.array(z.enum(CONDITIONS)).min(1).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(8)
      .optional(),
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
    for (const [task, fields] of Object.entries(s.taskOverrides ?? {})) {
      if (!s.tasks.includes(task as (typeof s.tasks)[number])) ctx.addIssue({ code: 'custom', path: ['taskOverrides', task], message: `'${task}' is not one of the study's tasks` });
      // Where runs train is the study's choice (and --check's), never one task's.
      for (const field of ['backend', 'task', 'seed', 'arch', 'condition'] as const) {
        if (fields && field in fields) ctx.addIssue({ code: 'custom', path: ['taskOverrides', task, field], message: `a task's own settings cannot set '${field}' (the study decides it)` });
      }
    }
    const partNames = (s.parts ?? []).map((p) => p.name);
    if (new Set(partNames).size !== partNames.length) ctx.addIssue({ code: 'custom', path: ['parts'], message: 'part names must differ' });
    (s.parts ?? []).forEach((part, i) => {
      for (const [field, values] of [['tasks', part.tasks], ['archs', part.archs], ['conditions', part.conditions]] as const) {
        const outside = (values ?? []).filter((v) => !(s[field] as readonly string[]).includes(v));
        if (outside.length) ctx.addIssue({ code: 'custom', path: ['parts', i, field], message: `part '${part.name}' names ${outside.join(', ')}, not in the study's ${field}` });
      }
      const conditions = part.conditions ?? s.conditions;
      for (const matched of ['norm-matched', 'logit-matched'] as const) {
        if (conditions.includes(matched) && !conditions.includes('mix')) ctx.addIssue({ code: 'custom', path: ['parts', i, 'conditions'], message: `part '${part.name}': '${matched}' needs 'mix' in the same part` });
      }
    });
  });

export type StudySpec = z.infer<typeof StudySpecSchema>;

/** A study spec that cannot be used; the message names the problem (for CLI and workbench alike). */
export class StudySpecError extends GrokscopeError {}
