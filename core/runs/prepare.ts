import { rmSync } from 'node:fs';
import { checkpointPath, checkpointSteps } from '../train/checkpoint.js';
import type { RunConfig } from '../schema/run-config.js';
import { Library, type RunRecord } from '../library/library.js';
import { checkpointDirFor } from '../library/paths.js';
import { GrokscopeError } from '../errors.js';
import type { MemberRequest } from './run-types.js';
import type { LogitTargets } from '../train/logit-temperature.js';

/**
 * Before a group trains: each member's config, the checkpoint it resumes from and the norm
 * targets it replays, resolved without creating anything (so a member that cannot start fails
 * alone and leaves no run behind).
 */
/**
 * The checkpoint a stopped or interrupted run resumes from: the latest one whose past the library
 * holds whole — every evaluation due up to its step and the weight norm after every step — or null
 * (the run then starts again from step 0). Why not simply the latest file: the worker writes a
 * checkpoint at once, but the host writes evaluations and norms in batches (a second apart); a
 * process killed outright in between leaves a checkpoint whose last evaluations and norms were
 * never stored, and resuming from it would leave those holes for good (found by test/kill.test.ts:
 * a mix run completed without norms for steps 11–20, so its norm-matched run could not start).
 * Later checkpoints are removed: they describe a future the resumed run will write again.
 */
export async function resumePoint(libraryDir: string, runId: string, config: RunConfig): Promise<string | null> {
  const dir = checkpointDirFor(libraryDir, runId);
  const saved = checkpointSteps(dir);
  if (!saved.length) return null;
  const { steps, norms } = await Library.with(libraryDir, async (lib) => ({
    steps: new Set((await lib.getMetrics(runId)).map((m) => m.step)),
    norms: await lib.getStepNorms(runId),
  }));
  const whole = (step: number): boolean => {
    for (let s = 0; s <= step; s += config.evalEvery) if (!steps.has(s)) return false;
    for (let s = 1; s <= step; s++) if (!(s < norms.length && Number.isFinite(norms[s]))) return false;
    return true;
  };
  for (let i = saved.length - 1; i >= 0; i--) {
    if (!whole(saved[i])) continue;
    for (const later of saved.slice(i + 1)) rmSync(checkpointPath(dir, later), { force: true });
    return checkpointPath(dir, saved[i]);
  }
  for (const step of saved) rmSync(checkpointPath(dir, step), { force: true });
  return null;
}

/**
 * The weight-norm trajectory a norm-matched run replays: that of its `mix` run, every step. The
 * mix run must have trained at least as many steps (mix runs never stop early; see
 * docs/decisions.md for why holding a final norm instead was tried and dropped).
 */
export async function loadNormTargets(libraryDir: string, config: RunConfig): Promise<Float64Array | undefined> {
  if (config.condition !== 'norm-matched') return undefined;
  return fromMixRun(libraryDir, config, async (lib, id, run) => {
    const norms = await lib.getStepNorms(id);
    const missing = Array.from({ length: config.steps }, (_, i) => i + 1).find((s) => !(s < norms.length && Number.isFinite(norms[s])));
    if (missing !== undefined) throw new Error(`norm-matched target ${id} has no weight norm for step ${missing} (it ran ${norms.length - 1} of ${config.steps} steps and is ${run.status})`);
    return norms;
  });
}

/**
 * The logit-scale trajectory a logit-matched run replays: that of its `mix` run at the mix run's
 * evaluations (core/train/logit-temperature.ts). Runs recorded before logit scales were measured
 * cannot be targets.
 */
export async function loadLogitTargets(libraryDir: string, config: RunConfig): Promise<LogitTargets | undefined> {
  if (config.condition !== 'logit-matched') return undefined;
  return fromMixRun(libraryDir, config, async (lib, id, run) => {
    const rows = (await lib.getMetrics(id)).filter((m) => m.scalars.logit_scale !== undefined);
    if (rows.length === 0) throw new Error(`logit-matched target ${id} has no logit scale (runs recorded before 2026-11-30 did not measure it)`);
    const last = rows[rows.length - 1].step;
    if (last < config.steps) throw new Error(`logit-matched target ${id} has logit scales up to step ${last} of ${config.steps} (it is ${run.status})`);
    return { steps: Float64Array.from(rows, (m) => m.step), values: Float64Array.from(rows, (m) => m.scalars.logit_scale) };
  });
}

/** Read what a matched run replays from the `mix` run its config names (refused when it is not a mix run). */
async function fromMixRun<T>(libraryDir: string, config: RunConfig, read: (lib: Library, id: string, run: RunRecord) => Promise<T>): Promise<T> {
  return Library.with(libraryDir, async (lib) => {
    const id = await lib.resolveRunId(config.normTargetRun!);
    const run = await lib.getRun(id);
    if (run.config.condition !== 'mix') throw new Error(`${config.condition} target ${id} is a '${run.config.condition}' run, not 'mix'`);
    return read(lib, id, run);
  });
}

export interface Prepared {
  request: MemberRequest;
  config: RunConfig;
  runId: string | null;
  resumeFrom?: string;
  /** The run exists already (its records from the resume point on are replaced). */
  resumed?: boolean;
  normTargets?: Float64Array;
  logitTargets?: LogitTargets;
}

/** Resolve a member's config (and checkpoint, and norm targets) without creating anything. */
export async function prepare(libraryDir: string, request: MemberRequest): Promise<Prepared> {
  if (request.resumeRunId) {
    const found = await Library.with(libraryDir, async (lib) => {
      const id = await lib.resolveRunId(request.resumeRunId!);
      return { id, run: await lib.getRun(id) };
    });
    if (found.run.status === 'completed') throw new GrokscopeError(`run ${found.id} is already completed`);
    // Null: no checkpoint (a run that failed before its first one, e.g. for lack of disk space),
    // or none whose past is stored whole: the run trains again from step 0 under its own id,
    // which gives the same run (same seed, same split, deterministic steps).
    const ckpt = await resumePoint(libraryDir, found.id, found.run.config);
    return { request, config: found.run.config, runId: found.id, resumeFrom: ckpt ?? undefined, resumed: true, normTargets: await loadNormTargets(libraryDir, found.run.config), logitTargets: await loadLogitTargets(libraryDir, found.run.config) };
  }
  if (!request.config) throw new GrokscopeError('a run needs a config or a run to resume');
  return { request, config: request.config, runId: null, normTargets: await loadNormTargets(libraryDir, request.config), logitTargets: await loadLogitTargets(libraryDir, request.config) };
}
