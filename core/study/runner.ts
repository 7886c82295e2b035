import { rmSync } from 'node:fs';
import type { Piscina } from 'piscina';
import type { RunConfig } from '../schema/run-config.js';
import { Library } from '../library/library.js';
import { checkpointDirFor, executeGroup, type MemberOutcome, type MemberRequest, type RunProgress } from '../runs/run-executor.js';
import { engineOf, groupSizeFor } from '../runs/group-size.js';
import { NAMED_STUDIES, planRuns, type PlannedRun } from './spec.js';
import { packGroups, type PlannedGroup } from './groups.js';
import type { StudySpec } from '../schema/study-spec.js';
import type { BackendChoice } from '../schema/backend-choices.js';
import { GrokscopeError, firstLine } from '../errors.js';
import { trainWithinBudget, type SliceReport, type TimeBudget } from './slice.js';

/**
 * Runs a study through the worker pool, resumably: the library remembers which run stands for
 * each planned key. Re-running a study skips completed runs, resumes stopped or interrupted ones
 * from their checkpoints and restarts failed ones. Runs are packed into run groups (groups.ts;
 * size from the spec or core/runs/group-size.ts), one pool task each; `norm-matched` runs are
 * grouped apart and their group starts when their `mix` runs have finished.
 */
export interface StudyProgress {
  total: number;
  done: number;
  failed: number;
  running: Map<string, RunProgress>;
}

export interface StudyRunResult {
  key: string;
  runId: string | null;
  /** A run's status; `deferred` for a run of a group a time budget left for the next invocation (slice.ts). */
  status: string;
  error: string | null;
}

export class StudyError extends GrokscopeError {}

/**
 * Each run a study trains, seen one by one (the workbench's live events for study runs, so that
 * they show under "Training now" like runs started alone): its progress with its config, and its
 * end. Runs the library already holds completed are not trained and not reported.
 */
export interface StudyRunHooks {
  progress(config: RunConfig, p: RunProgress): void;
  end(runId: string, status: string, error: string | null): void;
}

export async function runStudy(opts: {
  spec: StudySpec;
  libraryDir: string;
  pool: Piscina;
  onProgress?: (p: StudyProgress) => void;
  signal?: AbortSignal;
  /**
   * Only these planned keys (and the runs they depend on, which are trained only if the library
   * does not hold them completed): a queue worker's share of a study (core/queue/worker.ts).
   */
  only?: ReadonlySet<string>;
  /** Train new runs on this backend instead of the spec's (a queue worker's `--backend`). */
  backend?: BackendChoice;
  onRun?: StudyRunHooks;
  /** Start only the groups expected to end within this time (slice.ts); `onDone` hears what was left. */
  budget?: TimeBudget & { onDone?: (report: SliceReport) => void };
}): Promise<StudyRunResult[]> {
  const { spec, libraryDir, pool, only } = opts;
  const full = planRuns(spec);
  const needed = only ? new Set([...only, ...full.filter((r) => only.has(r.key) && r.dependsOn).map((r) => r.dependsOn!)]) : null;
  const plan = needed ? full.filter((r) => needed.has(r.key)) : full;
  const known = await claimStudy(libraryDir, spec);

  const progress: StudyProgress = { total: plan.length, done: 0, failed: 0, running: new Map() };
  const results = new Map<string, Promise<StudyRunResult>>();
  const report = (): void => opts.onProgress?.(progress);
  const settle = new Map<string, (r: StudyRunResult) => void>();
  for (const run of plan) results.set(run.key, new Promise((resolve) => settle.set(run.key, resolve)));
  const finish = (r: StudyRunResult): StudyRunResult => {
    progress.running.delete(r.key);
    if (r.status === 'completed') progress.done++;
    if (r.status === 'failed') progress.failed++;
    report();
    settle.get(r.key)!(r);
    return r;
  };

  /** First and last step seen of each run trained in this invocation (a slice's timing). */
  const steps = new Map<string, { first: number; last: number }>();
  /** Under a budget: checks the time limit at each progress report of a run. */
  let tick: (() => void) | null = null;

  /** A planned run as a member of its group, or its result when there is nothing to train. */
  const memberOf = async (run: PlannedRun, signal: AbortSignal | undefined): Promise<{ run: PlannedRun; request: MemberRequest } | StudyRunResult> => {
    let normTargetRun: string | undefined;
    if (run.dependsOn) {
      const dep = await results.get(run.dependsOn)!;
      // Its mix run was left for a later slice: so is this run.
      if (dep.status === 'deferred') return { key: run.key, runId: known.map.get(run.key) ?? null, status: 'deferred', error: null };
      if (dep.status !== 'completed' || !dep.runId) return { key: run.key, runId: null, status: 'failed', error: `its mix run ${run.dependsOn} did not complete` };
      normTargetRun = dep.runId;
    }
    const existing = known.map.get(run.key);
    if (signal?.aborted) return { key: run.key, runId: existing ?? null, status: 'stopped', error: null };
    const status = existing ? known.statuses.get(run.key) : undefined;
    if (existing && status === 'completed') return { key: run.key, runId: existing, status: 'completed', error: null };
    const config: RunConfig = { ...run.config, ...(normTargetRun ? { normTargetRun } : {}), ...(opts.backend ? { backend: opts.backend } : {}) };
    // A run that has not failed goes on under its id: from its latest checkpoint whose past is
    // stored whole, else from step 0 (core/runs/prepare.ts). A failed one is trained anew.
    // Not when its norm-matched target has changed (its mix run was trained anew meanwhile).
    const canResume = existing !== undefined && status !== 'failed' && known.normTargets.get(run.key) === config.normTargetRun;
    if (existing && !canResume) {
      await Library.with(libraryDir, (lib) => lib.deleteRun(existing));
      rmSync(checkpointDirFor(libraryDir, existing), { recursive: true, force: true });
    }
    return {
      run,
      request: {
        ...(canResume ? { resumeRunId: existing } : { config }),
        // The new run and its key are written in one transaction: no run without its key.
        studyKey: { study: spec.name, key: run.key },
        onProgress: (p) => {
          tick?.();
          const seen = steps.get(run.key);
          steps.set(run.key, { first: seen?.first ?? p.step, last: p.step });
          progress.running.set(run.key, p);
          report();
          opts.onRun?.progress(config, p);
        },
      },
    };
  };

  const executeOne = async (group: PlannedGroup, signal = opts.signal): Promise<void> => {
    const members: { run: PlannedRun; request: MemberRequest }[] = [];
    for (const m of await Promise.all(group.runs.map((r) => memberOf(r, signal)))) {
      if ('request' in m) members.push(m);
      else finish(m);
    }
    if (members.length === 0) return;
    let outcomes: MemberOutcome[];
    try {
      outcomes = await executeGroup({ libraryDir, pool, members: members.map((m) => m.request), signal });
    } catch (err) {
      for (const m of members) finish({ key: m.run.key, runId: null, status: 'failed', error: firstLine(err) });
      return;
    }
    outcomes.forEach((o, i) => {
      if (o.runId !== null) opts.onRun?.end(o.runId, o.status, o.error);
      finish({ key: members[i].run.key, runId: o.runId, status: o.status, error: o.error });
    });
  };

  const groups = await planGroups(spec, plan);
  if (!opts.budget) await Promise.all(groups.map((g) => executeOne(g)));
  else {
    const isDone = (key: string): boolean => known.map.has(key) && known.statuses.get(key) === 'completed';
    const report = await trainWithinBudget(opts.budget, groups, {
      isDone,
      settled: (key) => results.get(key)!,
      execute: executeOne,
      defer: (group) => {
        for (const r of group.runs) finish(isDone(r.key) ? { key: r.key, runId: known.map.get(r.key)!, status: 'completed', error: null } : { key: r.key, runId: known.map.get(r.key) ?? null, status: 'deferred', error: null });
      },
      stepsTrained: (runs) => Math.max(0, ...runs.map((r) => (steps.get(r.key) ? steps.get(r.key)!.last - steps.get(r.key)!.first : 0))),
      signal: opts.signal,
      onTick: (f) => (tick = f),
    });
    const final = await Promise.all(plan.map((p) => results.get(p.key)!));
    const byKey = new Map(final.map((r) => [r.key, r]));
    // Left: groups with a run deferred or stopped (a failed run is reported as failed, as without a budget).
    const leftGroups = groups.filter((g) => g.runs.some((r) => ['deferred', 'stopped'].includes(byKey.get(r.key)!.status)));
    const clock = report.clock;
    const leftEstimates = leftGroups.map((g) => clock.estimate(g.runs.filter((r) => byKey.get(r.key)!.status !== 'completed')));
    opts.budget.onDone?.({
      budgetSeconds: opts.budget.seconds,
      groups: groups.length,
      trained: report.started,
      doneBefore: groups.filter((g) => g.runs.every((r) => isDone(r.key))).length,
      left: leftGroups.length,
      leftSeconds: leftEstimates.some((e) => e === null) ? null : leftEstimates.reduce((a: number, b) => a + b!, 0) / Math.max(1, opts.budget.workers),
      stoppedAtLimit: report.stoppedAtLimit ? final.filter((r) => r.status === 'stopped').length : 0,
      elapsedSeconds: report.elapsedSeconds,
    });
  }
  const all = await Promise.all(plan.map((p) => results.get(p.key)!));
  await recordStudyEnd(libraryDir, spec, all, opts.signal, !only);
  return all;
}

/**
 * Planned runs packed into run groups, as runStudy trains them: the spec's groupSize, else the rule
 * of core/runs/group-size.ts for the backend's engine (`grokscope study --dry-run` counts these).
 */
export async function planGroups(spec: StudySpec, plan: PlannedRun[] = planRuns(spec)): Promise<PlannedGroup[]> {
  if (plan.length === 0) return [];
  const engine = spec.groupSize === undefined ? await engineOf(plan[0].config.backend) : 'host';
  return packGroups(plan, (config) => spec.groupSize ?? groupSizeFor(config as RunConfig, engine).size);
}

/**
 * Mark a study running in the library (refusing another spec under its name) and read the runs it
 * already has: per planned key, the run and its status and norm target. Runs deleted from the
 * library meanwhile are left out, so they are planned again. Shared with the queue coordinator.
 */
export async function claimStudy(libraryDir: string, spec: StudySpec): Promise<{ map: Map<string, string>; statuses: Map<string, string>; normTargets: Map<string, string | undefined> }> {
  const specJson = JSON.stringify(spec);
  return Library.with(libraryDir, async (lib) => {
    const stored = await lib.getStudySpec(spec.name);
    if (stored !== null && stored !== specJson) {
      // A built-in study whose definition changed between versions (quick: 5 → 10 seeds, p 31 → 47)
      // cannot be renamed by its user: say what happened and the ways on.
      const builtIn = spec.name in NAMED_STUDIES && specJson === JSON.stringify(NAMED_STUDIES[spec.name as keyof typeof NAMED_STUDIES]);
      throw new StudyError(
        builtIn
          ? `the built-in study '${spec.name}' has changed since this library ran it (${libraryDir}); its earlier runs stay there. Run it in another library (--library DIR), or as a spec file under a new name`
          : `study '${spec.name}' already exists in ${libraryDir} with a different spec; give this one another name`,
      );
    }
    await lib.upsertStudy(spec.name, specJson, 'running');
    const map = await lib.getStudyRuns(spec.name);
    const statuses = new Map<string, string>();
    const normTargets = new Map<string, string | undefined>();
    for (const [key, runId] of map) {
      try {
        const run = await lib.getRun(runId);
        statuses.set(key, run.status);
        normTargets.set(key, run.config.normTargetRun);
      } catch {
        map.delete(key); // the run was deleted from the library: plan it again
      }
    }
    return { map, statuses, normTargets };
  });
}

/** The study's status once a run of it ends: completed (when `whole` and every run completed), stopped or incomplete. */
export async function recordStudyEnd(libraryDir: string, spec: StudySpec, results: StudyRunResult[], signal: AbortSignal | undefined, whole = true): Promise<void> {
  const finished = whole && results.every((r) => r.status === 'completed');
  await Library.with(libraryDir, (lib) => lib.upsertStudy(spec.name, JSON.stringify(spec), finished ? 'completed' : signal?.aborted ? 'stopped' : 'incomplete'));
}
