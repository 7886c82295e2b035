import { Library } from '../../core/library/library.js';
import type { StudySpec } from '../../core/schema/study-spec.js';
import { reportDirFor } from '../../core/service/studies-view.js';
import { reportStudy } from '../../core/study/finish.js';
import type { StudyRunResult } from '../../core/study/runner.js';
import { runKey } from '../../core/study/spec.js';
import { makeFixtureRun } from './fixture-run.js';

/**
 * A study as the workbench leaves it, made without training: fixture runs (fixture-run.ts; the
 * baselines' salts put memorisation before a crossing before grokking, as test/e2e.test.ts's do)
 * recorded under the study's planned keys, the study's record, and — when `finished` — its report
 * written by core's own reportStudy into `<library>/reports/NAME`, where the service writes it.
 * Unfinished: the record says running and one of its runs is in, no report.
 */
export async function makeFixtureStudy(libraryDir: string, name: string, finished = true): Promise<{ spec: StudySpec; runIds: string[] }> {
  const spec: StudySpec = { version: 1, name, preset: 'fast', overrides: {}, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline', 'mix'], seeds: [0, 1], earlyStopEvals: 0 };
  const results: StudyRunResult[] = [];
  const seeds = finished ? spec.seeds : [0];
  for (const seed of seeds) {
    for (const [condition, salt] of [['baseline', 950 + seed], ['mix', 10 + seed]] as const) {
      const id = await makeFixtureRun(libraryDir, { id: `${name}-${condition}-${seed}`, salt, config: { seed, arch: 'transformer', condition } });
      const key = runKey('mod-add', 'transformer', condition, seed);
      await Library.with(libraryDir, (lib) => lib.setStudyRun(name, key, id));
      results.push({ key, runId: id, status: 'completed', error: null });
    }
  }
  await Library.with(libraryDir, (lib) => lib.upsertStudy(name, JSON.stringify(spec), finished ? 'completed' : 'running'));
  if (finished) await reportStudy(libraryDir, spec, results, reportDirFor(libraryDir, name));
  return { spec, runIds: results.map((r) => r.runId!) };
}
