import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { planGroups, type StudyProgress } from '../../core/study/runner.js';
import type { QueueStudyProgress } from '../../core/queue/coordinator.js';
import { conductStudy } from '../../core/service/conduct-study.js';
import { queueOptions } from './queue-options.js';
import { NAMED_STUDIES, planRuns, resolveStudySpec } from '../../core/study/spec.js';
import { StudySpecError, type StudySpec } from '../../core/schema/study-spec.js';
import { createTrainingPool, defaultWorkerCount } from '../../core/runs/pool.js';
import { UserError } from './errors.js';
import { formatDuration } from './progress.js';
import { checkSpecOf } from '../../core/study/check.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/schema/backend-choices.js';
import { interruptible } from './interrupt.js';
import { summaryLines } from './summary-lines.js';
import { parseTimeBudget, type SliceReport } from '../../core/study/slice.js';

/** A named study, or a spec JSON file (read here; checked by core's resolveStudySpec). */
export function loadStudySpec(arg: string): StudySpec {
  if (arg in NAMED_STUDIES) return NAMED_STUDIES[arg as keyof typeof NAMED_STUDIES];
  if (!existsSync(arg)) throw new UserError(`unknown study '${arg}': expected quick, paper or a spec JSON file`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(arg, 'utf8'));
  } catch (err) {
    throw new UserError(`study spec ${arg} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return resolveStudySpec(raw, arg);
  } catch (err) {
    throw err instanceof StudySpecError ? new UserError(err.message) : err;
  }
}

function progressLine(name: string, p: StudyProgress, started: number): string {
  let rate = 0;
  let remaining = 0;
  const parts: string[] = [];
  for (const [key, r] of p.running) {
    rate += r.stepsPerSecond ?? 0;
    remaining += r.totalSteps - r.step;
    parts.push(`${key} ${r.step}/${r.totalSteps}`);
  }
  const waiting = p.total - p.done - p.failed - p.running.size;
  const perRun = p.running.size ? [...p.running.values()][0].totalSteps : 0;
  remaining += waiting * perRun;
  const eta = rate > 0 ? formatDuration(remaining / rate) : '--';
  return `study ${name}: ${p.done}/${p.total} done${p.failed ? `, ${p.failed} failed` : ''} · ${parts.join(' · ') || 'starting'} · elapsed ${formatDuration((Date.now() - started) / 1000)} · ETA ≤ ${eta}`;
}

/**
 * What a study would train, without training: runs, run groups (packed as the runner packs them:
 * core/study/groups.ts, with the spec's groupSize or the rule of core/runs/group-size.ts) and
 * optimiser steps (per run: a group of S runs takes S run-steps per step).
 */
async function dryRun(spec: StudySpec, json: boolean, check: StudySpec | null): Promise<number> {
  const plans = [planRuns(spec), ...(check ? [planRuns(check)] : [])];
  const specs = [spec, ...(check ? [check] : [])];
  let groups = 0;
  for (let i = 0; i < plans.length; i++) groups += (await planGroups(specs[i], plans[i])).length;
  const planned = plans.flat();
  const out = { runs: planned.length, groups, steps: planned.reduce((a, r) => a + r.config.steps, 0) };
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else process.stdout.write(`study ${spec.name}: ${out.runs} runs in ${out.groups} groups, ${out.steps.toLocaleString('en-US')} optimiser steps in all\n`);
  return 0;
}

/** "time budget 9m: trained 6 of 30 run groups; 24 left (≈ 36 min at the measured rate); run the same command again to continue". */
export function sliceLine(budgetText: string, s: SliceReport): string {
  const before = s.doneBefore ? ` (${s.doneBefore} done before)` : '';
  const head = `time budget ${budgetText}: trained ${s.trained} of ${s.groups} run groups${before} in ${formatDuration(s.elapsedSeconds)}`;
  if (s.left === 0) return `${head}; none left`;
  const eta = s.leftSeconds === null ? 'time not known yet' : `≈ ${formatDuration(s.leftSeconds)} at the measured rate`;
  const stopped = s.stoppedAtLimit ? `; ${s.stoppedAtLimit} run(s) still training past the budget were stopped at a checkpoint and resume from it` : '';
  return `${head}; ${s.left} left (${eta})${stopped}; no report until every run is done; run the same command again to continue`;
}

export async function cmdStudy(specArg: string, opts: { library?: string; json?: boolean; workers?: string; out?: string; dryRun?: boolean; check?: string; queue?: string; results?: string; timeBudget?: string }): Promise<number> {
  const spec = loadStudySpec(specArg);
  const budgetSeconds = opts.timeBudget === undefined ? null : parseTimeBudget(opts.timeBudget);
  if (opts.timeBudget !== undefined && budgetSeconds === null) throw new UserError(`--time-budget expects a duration such as 90s, 9m, 1.5h or 1h30m (got '${opts.timeBudget}')`);
  if (budgetSeconds !== null && (opts.check !== undefined || opts.queue !== undefined)) throw new UserError('--time-budget slices a study trained here; run it without --check and --queue');
  if (opts.check !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(opts.check)) throw new UserError(`--check expects one of ${BACKEND_CHOICES.join(', ')} (got '${opts.check}')`);
  const checkSpec = opts.check === undefined ? null : checkSpecOf(spec, opts.check as BackendChoice);
  if (opts.dryRun) return await dryRun(spec, Boolean(opts.json), checkSpec);
  const queue = opts.queue === undefined ? null : await queueOptions(opts.queue, opts.results);
  if (queue && checkSpec) throw new UserError('--check trains on this machine; run it without --queue');
  const libraryDir = resolveLibraryDir(opts.library);
  const workers = opts.workers === undefined ? defaultWorkerCount() : Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`--workers expects a positive integer (got '${opts.workers}')`);
  const outDir = path.resolve(opts.out ?? `study-${spec.name}`);
  // On a queue the workers train; this process only enqueues, imports and reports.
  const pool = queue ? null : createTrainingPool(workers);
  const stop = interruptible('stopping the study at the next step of each run (Ctrl-C again to quit at once)…');
  const started = Date.now();
  const tty = Boolean(process.stderr.isTTY);
  let lastDraw = 0;
  try {
    process.stderr.write(queue ? `study ${spec.name}: on ${queue.connection.display}, ${queue.where}, library ${libraryDir}\n` : `study ${spec.name}: ${workers} worker(s), library ${libraryDir}\n`);
    const draw = (line: string): void => {
      const now = Date.now();
      if (now - lastDraw < (tty ? 200 : 10_000)) return;
      lastDraw = now;
      process.stderr.write(tty ? `\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 200) - 1)}` : `${line}\n`);
    };
    const queueProgress = (name: string, p: QueueStudyProgress): string =>
      `study ${name}: ${p.done}/${p.total} runs in${p.failed ? `, ${p.failed} failed` : ''} · jobs ${p.active} active, ${p.waiting} waiting · elapsed ${formatDuration((Date.now() - started) / 1000)}`;
    const { results, checkResults, stopped, written, slice } = await conductStudy({
      spec,
      libraryDir,
      pool,
      queue,
      signal: stop.signal,
      outDir,
      check: checkSpec ? { spec: checkSpec, backend: opts.check as BackendChoice } : null,
      log: (line) => process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`),
      onProgress: (s, p) => draw('queue' in p ? queueProgress(s.name, p.queue) : progressLine(s.name, p.local, started)),
      budget: budgetSeconds === null ? null : { seconds: budgetSeconds, workers },
    });
    if (tty) process.stderr.write('\n');
    const failed = [...results, ...(checkResults ?? [])].filter((r) => r.status === 'failed');
    for (const f of failed) process.stderr.write(`run ${f.key} failed: ${f.error}\n`);
    if (slice && !stopped && !written) {
      // A slice: its runs are stored; the rest waits for the next invocation.
      const line = sliceLine(opts.timeBudget!, slice);
      if (opts.json) process.stdout.write(`${JSON.stringify({ slice: { ...slice, line }, runs: results.length, completed: results.filter((r) => r.status === 'completed').length, failed: failed.length })}\n`);
      else process.stdout.write(`${line}\n`);
      return failed.length ? 1 : 0;
    }
    if (stopped || !written) {
      process.stderr.write(`study ${spec.name} stopped; run the same command again to resume it\n`);
      return 130;
    }
    const summary = written.summary;
    const verdicts = Object.fromEntries(Object.entries(summary.claims).map(([k, c]) => [k, c.verdict]));
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ ...(slice ? { slice: { ...slice, line: sliceLine(opts.timeBudget!, slice) } } : {}), summary: written.summaryPath, report: written.reportPath, runs: results.length, failed: failed.length, claims: verdicts, stability: Object.fromEntries(Object.entries(summary.claims).map(([k, c]) => [k, c.stability ?? null])), ...(summary.check ? { check: { backend: summary.check.backend, verdicts: summary.check.verdicts, agreed: summary.check.agreed } } : {}), threshold: summary.claims.C2.threshold ?? null, thresholdBand: summary.claims.C2.thresholdBand ?? null, leadMean: summary.claims.C2.leadMean ?? null, onset: summary.onset })}\n`,
      );
    } else {
      if (slice) process.stdout.write(`${sliceLine(opts.timeBudget!, slice)}\n`);
      process.stdout.write(`${written.summaryPath}\n`);
      for (const line of summaryLines(summary)) process.stdout.write(`${line}\n`);
      process.stdout.write(`report: ${written.reportPath}\n`);
    }
    return failed.length ? 1 : 0;
  } finally {
    stop.release();
    await pool?.destroy();
    await queue?.store.close();
  }
}
