import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GrokscopeError } from '../errors.js';
import { resolveLibraryDir } from '../library/paths.js';
import { BACKEND_CHOICES, type BackendChoice } from '../schema/backend-choices.js';
import { StudySpecError, type StudySpec } from '../schema/study-spec.js';
import { createTrainingPool, defaultWorkerCount } from '../runs/pool.js';
import { checkSpecOf } from '../study/check.js';
import { planGroups, type StudyProgress } from '../study/runner.js';
import { parseTimeBudget, type SliceReport } from '../study/slice.js';
import { isControlKey, NAMED_STUDIES, partKeys, partsOf, planRuns, resolveStudySpec } from '../study/spec.js';
import { QueueUrlError } from '../queue/connection.js';
import type { QueueStudyProgress } from '../queue/coordinator.js';
import { openQueue } from '../queue/open.js';
import { conductStudy, type ConductResult } from './conduct-study.js';

export type { ConductResult, QueueStudyProgress, SliceReport, StudyProgress, StudySpec };

/**
 * `grokscope study` below its display: the flags as typed, checked; a named study or a spec file
 * resolved; the dry run's counts; the library, the worker pool or the queue opened and closed
 * around conductStudy (conduct-study.ts, the engine the desktop service shares). The CLI keeps only
 * what it prints and its exit codes, so a host never assembles core's study parts itself
 * (test/layers.test.ts holds main/cli/study.ts to this module).
 */

/** What the user typed wrong (a flag, a spec argument), in one line; the CLI prints it as it is. */
export class StudyCommandError extends GrokscopeError {}

/** The names `study NAME` accepts, read from the registry, so a study added to core/study/spec.ts is listed. */
export function namedStudyNames(): string[] {
  return Object.keys(NAMED_STUDIES);
}

/** "quick, paper or a spec JSON file" — the list the refusal and the help text give. */
export function studyArgumentChoices(): string {
  return `${namedStudyNames().join(', ')} or a spec JSON file`;
}

/** A named study, or a spec JSON file (read here; checked by core's resolveStudySpec). */
export function loadStudySpec(arg: string): StudySpec {
  if (Object.hasOwn(NAMED_STUDIES, arg)) return NAMED_STUDIES[arg as keyof typeof NAMED_STUDIES];
  if (!existsSync(arg)) throw new StudyCommandError(`unknown study '${arg}': expected ${studyArgumentChoices()}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(arg, 'utf8'));
  } catch (err) {
    throw new StudyCommandError(`study spec ${arg} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return resolveStudySpec(raw, arg);
  } catch (err) {
    throw err instanceof StudySpecError ? new StudyCommandError(err.message) : err;
  }
}

/** The command's flags, as strings as typed (commander's options of `study`). */
export interface StudyCommandInput {
  library?: string;
  workers?: string;
  out?: string;
  check?: string;
  queue?: string;
  results?: string;
  timeBudget?: string;
  /** `--part NAME`: one part of a study that has parts (spec.parts). */
  part?: string;
}

/** A study command whose spec and flags were checked; nothing opened yet. */
export interface StudyCommand {
  spec: StudySpec;
  /** `--check BACKEND`: the same plan again on that backend, as its own study. */
  check: { spec: StudySpec; backend: BackendChoice } | null;
  /** `--time-budget`, in seconds. */
  budgetSeconds: number | null;
  /** `--part`: the planned keys of that part (the runs they depend on are added by the runner). */
  only: Set<string> | null;
  input: StudyCommandInput;
}

/** The spec and the flags that a dry run needs too, checked in the order the user reads them. */
export function prepareStudyCommand(specArg: string, input: StudyCommandInput): StudyCommand {
  const spec = loadStudySpec(specArg);
  const budgetSeconds = input.timeBudget === undefined ? null : parseTimeBudget(input.timeBudget);
  if (input.timeBudget !== undefined && budgetSeconds === null) throw new StudyCommandError(`--time-budget expects a duration such as 90s, 9m, 1.5h or 1h30m (got '${input.timeBudget}')`);
  if (budgetSeconds !== null && (input.check !== undefined || input.queue !== undefined)) throw new StudyCommandError('--time-budget slices a study trained here; run it without --check and --queue');
  if (input.check !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(input.check)) throw new StudyCommandError(`--check expects one of ${BACKEND_CHOICES.join(', ')} (got '${input.check}')`);
  if (input.part !== undefined && (input.check !== undefined || input.queue !== undefined)) throw new StudyCommandError('--part trains one part here; run it without --check and --queue (they take the whole study)');
  let only: Set<string> | null = null;
  try {
    if (input.part !== undefined) only = partKeys(spec, input.part);
  } catch (err) {
    throw err instanceof StudySpecError ? new StudyCommandError(err.message) : err;
  }
  const backend = input.check as BackendChoice | undefined;
  return { spec, check: backend === undefined ? null : { spec: checkSpecOf(spec, backend), backend }, budgetSeconds, only, input };
}

/** What a dry run reports: runs, run groups and optimiser steps (of the check's plan too). */
export interface StudyPlanCounts {
  runs: number;
  groups: number;
  steps: number;
  /** A study with parts: each part's runs and optimiser steps (a run two parts share counts in both). */
  parts?: { name: string; about: string | null; runs: number; steps: number }[];
  /** With --part: the part planned. */
  part?: string;
}

/**
 * What a study would train, without training: runs, run groups (packed as the runner packs them:
 * core/study/groups.ts, with the spec's groupSize or the rule of core/runs/group-size.ts) and
 * optimiser steps (per run: a group of S runs takes S run-steps per step).
 */
export async function planStudyCommand(cmd: StudyCommand): Promise<StudyPlanCounts> {
  const specs = [cmd.spec, ...(cmd.check ? [cmd.check.spec] : [])];
  let groups = 0;
  let runs = 0;
  let steps = 0;
  for (const spec of specs) {
    const full = planRuns(spec);
    // With --part: that part's runs and the runs they depend on (the runner trains those too).
    const wanted = cmd.only ? new Set([...cmd.only, ...full.filter((r) => cmd.only!.has(r.key) && r.dependsOn).map((r) => r.dependsOn!)]) : null;
    const plan = wanted ? full.filter((r) => wanted.has(r.key)) : full;
    groups += (await planGroups(spec, plan)).length;
    runs += plan.length;
    steps += plan.reduce((a, r) => a + r.config.steps, 0);
  }
  const full = planRuns(cmd.spec);
  const parts = cmd.spec.parts?.map((p) => {
    const mine = full.filter((r) => !isControlKey(r.key) && partsOf(cmd.spec, r.config.task, r.config.arch, r.config.condition).includes(p.name));
    return { name: p.name, about: p.about ?? null, runs: mine.length, steps: mine.reduce((a, r) => a + r.config.steps, 0) };
  });
  return { runs, groups, steps, ...(parts ? { parts } : {}), ...(cmd.input.part !== undefined ? { part: cmd.input.part } : {}) };
}

/** Where the study trains, known once everything is open (the CLI's first line says it). */
export interface StudyCommandStart {
  libraryDir: string;
  workers: number;
  /** On a queue: the Redis it reaches and where results travel; null when this host's pool trains. */
  queue: { display: string; where: string } | null;
}

export interface StudyCommandHooks {
  signal: AbortSignal;
  onStart?: (start: StudyCommandStart) => void;
  onProgress?: (spec: StudySpec, p: { local: StudyProgress } | { queue: QueueStudyProgress }) => void;
  log?: (line: string) => void;
}

/**
 * Train the study (on this host's pool, or through a queue whose workers train), then its check,
 * then its summary and report (or, with a budget, a slice: conductStudy's `slice`). The pool is
 * destroyed and the queue's result store closed whatever happens.
 */
export async function runStudyCommand(cmd: StudyCommand, hooks: StudyCommandHooks): Promise<ConductResult> {
  const { input } = cmd;
  if (input.queue !== undefined && cmd.check) throw new StudyCommandError('--check trains on this machine; run it without --queue');
  const workers = input.workers === undefined ? defaultWorkerCount() : Number(input.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new StudyCommandError(`--workers expects a positive integer (got '${input.workers}')`);
  const libraryDir = resolveLibraryDir(input.library);
  const outDir = path.resolve(input.out ?? `study-${cmd.spec.name}`);
  const queue =
    input.queue === undefined
      ? null
      : await openQueue(input.queue, input.results).catch((err: unknown) => {
          throw err instanceof QueueUrlError ? new StudyCommandError(err.message) : err;
        });
  // On a queue the workers train; this process only enqueues, imports and reports.
  const pool = queue ? null : createTrainingPool(workers);
  try {
    hooks.onStart?.({ libraryDir, workers, queue: queue ? { display: queue.connection.display, where: queue.where } : null });
    return await conductStudy({
      spec: cmd.spec,
      libraryDir,
      pool,
      queue,
      signal: hooks.signal,
      outDir,
      check: cmd.check,
      log: hooks.log,
      onProgress: hooks.onProgress,
      budget: cmd.budgetSeconds === null ? null : { seconds: cmd.budgetSeconds, workers },
      only: cmd.only,
    });
  } finally {
    await pool?.destroy();
    await queue?.store.close();
  }
}
