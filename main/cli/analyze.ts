import path from 'node:path';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { ALARM_FROM, type AlarmFrom } from '../../core/analysis/events.js';
import { analyzeLibraryRuns, AnalyzeError } from '../../core/study/analyze-runs.js';
import { UserError } from './errors.js';
import { summaryLines } from './summary-lines.js';

export interface AnalyzeOpts {
  library?: string;
  json?: boolean;
  study?: string;
  all?: boolean;
  task?: string;
  arch?: string;
  origin?: string;
  out?: string;
  name?: string;
  alarmFrom?: string;
}

/** "12 of 24 planned runs of study paper (12 not completed in this library)": how much of a study an analysis covers. */
function coverage(r: { runs: number; planned: number | null; summary: { study?: string } }): string | null {
  if (r.planned === null) return null;
  const missing = r.planned - r.runs;
  return `${r.runs} of ${r.planned} planned runs${missing > 0 ? `; ${missing} not completed in this library, so verdicts rest on part of the study` : ''}`;
}

/** `grokscope analyze [RUN…] [--study NAME] [--all]`: a study's analysis and report over library runs, ours or imported. */
export async function cmdAnalyze(ids: string[], opts: AnalyzeOpts): Promise<number> {
  if (opts.alarmFrom !== undefined && !(ALARM_FROM as readonly string[]).includes(opts.alarmFrom)) throw new UserError(`--alarm-from expects ${ALARM_FROM.join(' or ')} (got '${opts.alarmFrom}')`);
  const libraryDir = resolveLibraryDir(opts.library);
  const name = opts.name ?? opts.study ?? 'analysis';
  const outDir = path.resolve(opts.out ?? `analysis-${name}`);
  let result;
  try {
    result = await analyzeLibraryRuns(libraryDir, { ids, study: opts.study, all: opts.all, task: opts.task, arch: opts.arch, origin: opts.origin }, outDir, { name, alarmFrom: opts.alarmFrom as AlarmFrom | undefined });
  } catch (err) {
    throw err instanceof AnalyzeError ? new UserError(err.message) : err;
  }
  const { summary } = result;
  for (const s of result.skipped) process.stderr.write(`left out ${s.id}: ${s.why}\n`);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ summary: result.summaryPath, report: result.reportPath, runs: result.runs, planned: result.planned, coverage: coverage(result), skipped: result.skipped, claims: Object.fromEntries(Object.entries(summary.claims).map(([k, c]) => [k, c.verdict])), threshold: summary.claims.C2.threshold ?? null, thresholdBand: summary.claims.C2.thresholdBand ?? null, onset: summary.onset, forecast: summary.forecast.map(({ task, arch, heldOutMeanRelError, heldOutMeanRelErrorToGo, nulls, beatsNulls }) => ({ task, arch, heldOutMeanRelError, heldOutMeanRelErrorToGo, nulls, beatsNulls })) })}\n`,
    );
    return 0;
  }
  process.stdout.write(`${result.summaryPath} (${result.planned === null ? `${result.runs} runs` : coverage(result)})\n`);
  for (const line of summaryLines(summary)) process.stdout.write(`${line}\n`);
  process.stdout.write(`report: ${result.reportPath}\n`);
  return 0;
}
