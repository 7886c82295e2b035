import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import { Library } from '../library/library.js';
import { importSources } from '../library/transfer.js';
import { planRuns, type PlannedRun } from '../study/spec.js';
import { packGroups } from '../study/groups.js';
import { claimStudy, recordStudyEnd, type StudyRunResult } from '../study/runner.js';
import type { StudySpec } from '../schema/study-spec.js';
import { QUEUE_NAME, groupJobId, type GroupJob, type GroupJobResult } from './jobs.js';
import { savedRunName, storeRun, type ResultStore } from './result-store.js';
import type { QueueConnection } from './connection.js';

/**
 * `grokscope study SPEC --queue URL --results DIR`: the study's run groups as queue jobs, followed
 * until every run is in this library (docs/scale-out.md). Groups of runs that replay a `mix` run
 * are enqueued once their mix runs are imported (their saved runs travel with the job). Each
 * finished run is imported from the results folder as it arrives — digest-checked against its
 * manifest, idempotent by id and content — and recorded under its study key, so a second
 * invocation enqueues only what is missing and imports nothing twice. Runs are packed one per
 * job unless the spec sets `groupSize` (the coordinator cannot know the workers' hardware).
 */
export interface QueueStudyProgress {
  total: number;
  done: number;
  failed: number;
  active: number;
  waiting: number;
}

export interface QueueStudyOptions {
  spec: StudySpec;
  libraryDir: string;
  connection: QueueConnection;
  /** Where the workers' saved runs arrive (a shared folder, or Redis): result-store.ts. */
  store: ResultStore;
  /** How often to look at the jobs, ms. */
  pollMs?: number;
  attempts?: number;
  onProgress?: (p: QueueStudyProgress) => void;
  /** One line for the user (a refused result). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export async function runStudyOnQueue(o: QueueStudyOptions): Promise<StudyRunResult[]> {
  const { spec, libraryDir } = o;
  const plan = planRuns(spec);
  const known = await claimStudy(libraryDir, spec);
  const results = new Map<string, StudyRunResult>();
  for (const [key, runId] of known.map) if (known.statuses.get(key) === 'completed') results.set(key, { key, runId, status: 'completed', error: null });
  const files = new Map<string, string>();
  const retried = new Map<string, number>();
  const groups = packGroups(plan, spec.groupSize ?? 1).map((g) => ({ runs: g.runs, keys: g.runs.map((r) => r.key), id: '', queued: false }));
  for (const g of groups) g.id = groupJobId(spec, g.keys);

  const queue = new Queue<GroupJob, GroupJobResult>(QUEUE_NAME, { connection: o.connection.options });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'grokscope-collect-'));
  try {
    for (;;) {
      const pending = groups.filter((g) => g.keys.some((k) => !results.has(k)));
      if (pending.length === 0) break;
      if (o.signal?.aborted) {
        for (const g of pending) for (const k of g.keys) if (!results.has(k)) results.set(k, { key: k, runId: null, status: 'stopped', error: null });
        break;
      }
      let active = 0;
      let waiting = 0;
      for (const g of pending) {
        const deps = depsOf(g.runs);
        const failedDep = deps.find((d) => results.get(d)?.status === 'failed');
        if (failedDep) {
          for (const k of g.keys) results.set(k, { key: k, runId: null, status: 'failed', error: `its mix run ${failedDep} did not complete` });
          continue;
        }
        if (!g.queued) {
          if (!deps.every((d) => results.get(d)?.status === 'completed')) continue;
          const depFiles = [];
          for (const d of deps) depFiles.push({ key: d, file: await savedRunOf(o, scratch, d, results.get(d)!.runId!, files) });
          await enqueue(queue, g.id, { study: spec.name, spec, keys: g.keys, deps: depFiles }, o.attempts ?? 3);
          g.queued = true;
        }
        const job = await Job.fromId<GroupJob, GroupJobResult>(queue, g.id);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'active') active++;
        else if (state !== 'completed' && state !== 'failed') waiting++;
        if (state === 'completed' && job) {
          const refused = await collect(o, scratch, job.returnvalue, results, files);
          if (refused) {
            // A result that does not verify is the worker's failure: train the job again (up to
            // its attempts), and say so in one line.
            const tries = (retried.get(g.id) ?? 0) + 1;
            retried.set(g.id, tries);
            o.log?.(`${refused}; ${tries < (o.attempts ?? 3) ? 'training its job again' : 'giving up on it'}`);
            if (tries < (o.attempts ?? 3)) {
              await job.remove();
              g.queued = false;
            } else for (const k of g.keys) if (!results.has(k)) results.set(k, { key: k, runId: null, status: 'failed', error: refused });
          }
        }
        if (state === 'failed' && job) for (const k of g.keys) if (!results.has(k)) results.set(k, { key: k, runId: null, status: 'failed', error: job.failedReason ?? 'failed' });
      }
      const ended = [...results.values()];
      o.onProgress?.({ total: plan.length, done: ended.filter((r) => r.status === 'completed').length, failed: ended.filter((r) => r.status === 'failed').length, active, waiting });
      await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
  } finally {
    await queue.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const all = plan.map((r) => results.get(r.key) ?? { key: r.key, runId: null, status: 'stopped', error: null });
  await recordStudyEnd(libraryDir, spec, all, o.signal);
  return all;
}

/**
 * The saved run of a completed dependency in the results store: the one a worker left, or, for a
 * run this library held already (an earlier invocation), exported from here.
 */
async function savedRunOf(o: QueueStudyOptions, scratch: string, key: string, runId: string, files: Map<string, string>): Promise<string> {
  const ref = await o.store.find(savedRunName(o.spec.name, key));
  if (ref) {
    files.set(key, ref);
    return ref;
  }
  const stored = await storeRun(o.store, o.libraryDir, runId, savedRunName(o.spec.name, key), scratch);
  files.set(key, stored);
  return stored;
}

function depsOf(runs: PlannedRun[]): string[] {
  return [...new Set(runs.filter((r) => r.dependsOn).map((r) => r.dependsOn!))];
}

/** Add the job unless it exists; a job that failed for good in an earlier invocation is retried. */
async function enqueue(queue: Queue<GroupJob, GroupJobResult>, id: string, data: GroupJob, attempts: number): Promise<void> {
  const existing = await Job.fromId<GroupJob, GroupJobResult>(queue, id);
  if (existing && (await existing.getState()) === 'failed') {
    await existing.retry('failed');
    return;
  }
  if (!existing) await queue.add('group', data, { jobId: id, attempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
}

/**
 * Import a finished job's runs (each once) and record them under their study keys; the refusal,
 * in one line, of the first result that is missing or does not verify (nothing of it imported).
 */
async function collect(o: QueueStudyOptions, scratch: string, result: GroupJobResult, results: Map<string, StudyRunResult>, files: Map<string, string>): Promise<string | null> {
  const { libraryDir, spec } = o;
  for (const r of result?.runs ?? []) {
    if (results.has(r.key)) {
      files.set(r.key, r.file);
      continue;
    }
    const local = await o.store.fetch(r.file, scratch);
    if (!local) return `run ${r.key}: its saved run ${r.file} is not in the results store`;
    const [report] = await importSources(libraryDir, [local]);
    if (!report.ok) return `run ${r.key} refused: ${report.error}`;
    const id = report.outcomes[0].id;
    await Library.with(libraryDir, (lib) => lib.setStudyRun(spec.name, r.key, id));
    results.set(r.key, { key: r.key, runId: id, status: 'completed', error: null });
    files.set(r.key, r.file);
  }
  return null;
}
