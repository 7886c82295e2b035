import {
  planStudyCommand,
  prepareStudyCommand,
  runStudyCommand,
  StudyCommandError,
  studyArgumentChoices,
  type QueueStudyProgress,
  type SliceReport,
  type StudyCommandInput,
  type StudyProgress,
} from '../../core/service/study-command.js';
import { UserError } from './errors.js';
import { formatDuration } from './progress.js';
import { interruptible } from './interrupt.js';
import { summaryLines } from './summary-lines.js';

/** `study <spec>`'s help: the named studies of core/study/spec.ts as they are today, or a file. */
export const studyArgumentHelp = (): string => studyArgumentChoices();

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

/** "time budget 9m: trained 6 of 30 run groups; 24 left (≈ 36 min at the measured rate); run the same command again to continue". */
export function sliceLine(budgetText: string, s: SliceReport): string {
  const before = s.doneBefore ? ` (${s.doneBefore} done before)` : '';
  const head = `time budget ${budgetText}: trained ${s.trained} of ${s.groups} run groups${before} in ${formatDuration(s.elapsedSeconds)}`;
  if (s.left === 0) return `${head}; none left`;
  const eta = s.leftSeconds === null ? 'time not known yet' : `≈ ${formatDuration(s.leftSeconds)} at the measured rate`;
  const stopped = s.stoppedAtLimit ? `; ${s.stoppedAtLimit} run(s) still training past the budget were stopped at a checkpoint and resume from it` : '';
  return `${head}; ${s.left} left (${eta})${stopped}; no report until every run is done; run the same command again to continue`;
}

/** The service's refusals of what the user typed are UserErrors here, with the same message. */
async function asUser<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof StudyCommandError ? new UserError(err.message) : err;
  }
}

/**
 * `grokscope study`: its display only — progress lines, the slice line, the summary, exit codes,
 * Ctrl-C. Everything it asks of core (the spec, the flags' checks, the pool or the queue, the
 * study itself) goes through core/service/study-command.ts (test/layers.test.ts holds it so).
 */
export async function cmdStudy(specArg: string, opts: StudyCommandInput & { json?: boolean; dryRun?: boolean }): Promise<number> {
  const cmd = await asUser(() => prepareStudyCommand(specArg, opts));
  const spec = cmd.spec;
  if (opts.dryRun) {
    const out = await planStudyCommand(cmd);
    if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      const what = out.part === undefined ? `study ${spec.name}` : `study ${spec.name}, part ${out.part} (with the runs it depends on)`;
      process.stdout.write(`${what}: ${out.runs} runs in ${out.groups} groups, ${out.steps.toLocaleString('en-US')} optimiser steps in all\n`);
      for (const p of out.parts ?? []) process.stdout.write(`  part ${p.name}: ${p.runs} runs, ${p.steps.toLocaleString('en-US')} steps${p.about ? ` — ${p.about}` : ''}\n`);
      if (out.parts && out.part === undefined) process.stdout.write(`  (a run two parts share is planned once; --part NAME trains one part)\n`);
    }
    return 0;
  }
  const stop = interruptible('stopping the study at the next step of each run (Ctrl-C again to quit at once)…');
  const started = Date.now();
  const tty = Boolean(process.stderr.isTTY);
  let lastDraw = 0;
  try {
    const draw = (line: string): void => {
      const now = Date.now();
      if (now - lastDraw < (tty ? 200 : 10_000)) return;
      lastDraw = now;
      process.stderr.write(tty ? `\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 200) - 1)}` : `${line}\n`);
    };
    const queueProgress = (name: string, p: QueueStudyProgress): string =>
      `study ${name}: ${p.done}/${p.total} runs in${p.failed ? `, ${p.failed} failed` : ''} · jobs ${p.active} active, ${p.waiting} waiting · elapsed ${formatDuration((Date.now() - started) / 1000)}`;
    const { results, checkResults, stopped, written, slice } = await asUser(() =>
      runStudyCommand(cmd, {
        signal: stop.signal,
        onStart: ({ libraryDir, workers, queue }) =>
          process.stderr.write(queue ? `study ${spec.name}: on ${queue.display}, ${queue.where}, library ${libraryDir}\n` : `study ${spec.name}: ${workers} worker(s), library ${libraryDir}\n`),
        log: (line) => process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`),
        onProgress: (s, p) => draw('queue' in p ? queueProgress(s.name, p.queue) : progressLine(s.name, p.local, started)),
      }),
    );
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
  }
}
