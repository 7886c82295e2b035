import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../schema/run-config.js';
import { Library } from '../library/library.js';
import { checkpointDirFor } from '../library/paths.js';
import { GrokscopeError } from '../errors.js';
import type { MemberRequest } from './run-executor.js';

/**
 * Before a group trains: each member's config, the checkpoint it resumes from and the norm
 * targets it replays, resolved without creating anything (so a member that cannot start fails
 * alone and leaves no run behind).
 */
export function latestCheckpoint(dir: string): string | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^step-\d+\.ckpt$/.test(f));
  } catch {
    return null;
  }
  files.sort();
  return files.length ? path.join(dir, files[files.length - 1]) : null;
}


/**
 * The weight-norm trajectory a norm-matched run replays: that of its `mix` run, every step. The
 * mix run must have trained at least as many steps (mix runs never stop early; see
 * docs/decisions.md for why holding a final norm instead was tried and dropped).
 */
export async function loadNormTargets(libraryDir: string, config: RunConfig): Promise<Float64Array | undefined> {
  if (config.condition !== 'norm-matched') return undefined;
  const target = config.normTargetRun!;
  return Library.with(libraryDir, async (lib) => {
    const id = await lib.resolveRunId(target);
    const run = await lib.getRun(id);
    if (run.config.condition !== 'mix') throw new Error(`norm-matched target ${id} is a '${run.config.condition}' run, not 'mix'`);
    const norms = await lib.getStepNorms(id);
    const missing = Array.from({ length: config.steps }, (_, i) => i + 1).find((s) => !(s < norms.length && Number.isFinite(norms[s])));
    if (missing !== undefined) throw new Error(`norm-matched target ${id} has no weight norm for step ${missing} (it ran ${norms.length - 1} of ${config.steps} steps and is ${run.status})`);
    return norms;
  });
}

export interface Prepared {
  request: MemberRequest;
  config: RunConfig;
  runId: string | null;
  resumeFrom?: string;
  normTargets?: Float64Array;
}

/** Resolve a member's config (and checkpoint, and norm targets) without creating anything. */
export async function prepare(libraryDir: string, request: MemberRequest): Promise<Prepared> {
  if (request.resumeRunId) {
    const found = await Library.with(libraryDir, async (lib) => {
      const id = await lib.resolveRunId(request.resumeRunId!);
      return { id, run: await lib.getRun(id) };
    });
    if (found.run.status === 'completed') throw new GrokscopeError(`run ${found.id} is already completed`);
    const ckpt = latestCheckpoint(checkpointDirFor(libraryDir, found.id));
    if (!ckpt) throw new GrokscopeError(`run ${found.id} has no checkpoint to resume from`);
    return { request, config: found.run.config, runId: found.id, resumeFrom: ckpt, normTargets: await loadNormTargets(libraryDir, found.run.config) };
  }
  if (!request.config) throw new GrokscopeError('a run needs a config or a run to resume');
  return { request, config: request.config, runId: null, normTargets: await loadNormTargets(libraryDir, request.config) };
}
