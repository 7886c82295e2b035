import { Library } from '../library/library.js';
import { analyzeStudy, type StudyRunData, type StudySummary } from './analyze.js';
import { writeReport } from './report.js';
import { claimStability } from './stability.js';
import { compareVerdicts } from './check.js';
import type { BackendChoice } from '../schema/backend-choices.js';
import type { StudyRunResult } from './runner.js';
import type { StudySpec } from '../schema/study-spec.js';

/**
 * After a study: read its completed runs from the library, analyse them and write the report
 * folder (summary.json, report.html, figures), each verdict with its stability over seed
 * resamples (stability.ts). Shared by `grokscope study` and the workbench.
 * Throws when no run completed (analyzeStudy says so).
 */
export async function reportStudy(
  libraryDir: string,
  spec: StudySpec,
  results: StudyRunResult[],
  outDir: string,
  check?: { spec: StudySpec; backend: BackendChoice; results: StudyRunResult[] },
): Promise<{ summary: StudySummary; summaryPath: string; reportPath: string; figures: string[] }> {
  const data = await completedRuns(libraryDir, results);
  const summary = analyzeStudy(spec, data);
  const stability = claimStability(spec, data, summary.claims);
  for (const k of Object.keys(summary.claims) as (keyof typeof summary.claims)[]) summary.claims[k].stability = stability[k];
  if (check) {
    const other = analyzeStudy(check.spec, await completedRuns(libraryDir, check.results));
    const backends = [...new Set(data.map((d) => d.run.backend ?? 'unknown'))].sort();
    summary.check = compareVerdicts(summary.claims, other.claims, check.backend, check.spec.name, backends);
  }
  return { summary, ...writeReport(outDir, summary, data) };
}

async function completedRuns(libraryDir: string, results: StudyRunResult[]): Promise<StudyRunData[]> {
  return Library.with(libraryDir, async (lib) => {
    const out: StudyRunData[] = [];
    for (const r of results) {
      if (r.status !== 'completed' || !r.runId) continue;
      out.push({ key: r.key, run: await lib.getRun(r.runId), metrics: await lib.getMetrics(r.runId) });
    }
    return out;
  });
}
