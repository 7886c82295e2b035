import { Library } from '../library/library.js';
import type { AlarmFrom } from '../analysis/events.js';
import { StudySpecSchema, type StudySpec } from '../schema/study-spec.js';
import { GrokscopeError } from '../errors.js';
import { analyzeStudy, type StudyRunData, type StudySummary } from './analyze.js';
import { writeReport } from './report.js';
import { claimStability } from './stability.js';
import { planRuns } from './spec.js';

/**
 * A study's analysis over any selection of library runs (`grokscope analyze`): runs we trained,
 * runs imported from other tools (`import --external`), or both. It writes the same summary.json
 * and report.html a study writes. A study's own runs (`--study`) keep their planned keys, so its
 * detection controls stay controls and the analysis equals the study's report under today's
 * rules; any other selection gets a spec made from what its runs are (tasks, architectures,
 * conditions, seeds). A run lacking a measurement gets every verdict the rest allows; what it
 * lacks is `not-measured` (claims.ts), never a failure.
 */
export interface RunSelection {
  /** Run ids or unique prefixes. */
  ids?: string[];
  /** Every run of this study, under its planned keys. */
  study?: string;
  /** Every run in the library. */
  all?: boolean;
  /** Keep only runs of this task, architecture or origin (`trained`, `imported`, `external`). */
  task?: string;
  arch?: string;
  origin?: string;
}

export class AnalyzeError extends GrokscopeError {}

export interface SelectedRuns {
  data: StudyRunData[];
  /** Runs selected but left out, with why (not completed, filtered). */
  skipped: { id: string; why: string }[];
  /** The study's own spec with --study, else one made from the runs. */
  spec: StudySpec;
  /** With --study: the runs its spec plans (the analysis covers data.length of them), else null. */
  planned: number | null;
}

/** Run settings that must agree for one analysis: they define its events and its probe. */
const SHARED = ['probe', 'memThreshold', 'grokThreshold', 'crossPersistence'] as const;

export async function selectRuns(lib: Library, sel: RunSelection, name: string): Promise<SelectedRuns> {
  const keyed = new Map<string, string>(); // run id → key
  let studySpec: StudySpec | null = null;
  if (sel.study !== undefined) {
    const raw = await lib.getStudySpec(sel.study);
    if (raw === null) throw new AnalyzeError(`no study '${sel.study}' in this library`);
    const parsed = StudySpecSchema.safeParse(JSON.parse(raw));
    if (parsed.success) studySpec = parsed.data;
    for (const [key, id] of await lib.getStudyRuns(sel.study)) keyed.set(id, key);
  }
  const ids = new Set<string>([...keyed.keys()]);
  if (sel.ids?.length) for (const id of await lib.resolveRunIds(sel.ids)) ids.add(id);
  if (sel.all) for (const r of await lib.listRuns()) ids.add(r.id);
  if (ids.size === 0) throw new AnalyzeError('no runs selected: name run ids, --study NAME or --all');
  const runs = await lib.getRuns([...ids]);
  const skipped: SelectedRuns['skipped'] = [];
  const data: StudyRunData[] = [];
  const usedKeys = new Set<string>();
  for (const run of runs) {
    const c = run.config;
    if (sel.task !== undefined && c.task !== sel.task) continue;
    if (sel.arch !== undefined && c.arch !== sel.arch) continue;
    if (sel.origin !== undefined && run.origin !== sel.origin) continue;
    if (run.status !== 'completed') {
      skipped.push({ id: run.id, why: `status ${run.status}` });
      continue;
    }
    let key = keyed.get(run.id) ?? `${c.task}/${c.arch}/${c.condition}/s${c.seed}`;
    if (usedKeys.has(key)) key = `${key}#${run.id}`;
    usedKeys.add(key);
    data.push({ key, run, metrics: await lib.getMetrics(run.id) });
  }
  if (data.length === 0) throw new AnalyzeError(`none of the ${ids.size} selected runs is a completed run${sel.task || sel.arch || sel.origin ? ' matching the filters' : ''}`);
  // Leave-one-seed-out needs seeds: runs of one setting that all carry one seed (external runs
  // imported without --seed get the preset's) would each be fitted on nothing.
  const bySetting = new Map<string, Set<number>>();
  const count = new Map<string, number>();
  for (const d of data) {
    const c = d.run.config;
    const k = `${c.task} ${c.arch} ${c.condition}`;
    bySetting.set(k, (bySetting.get(k) ?? new Set()).add(c.seed));
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  for (const [k, seeds] of bySetting) {
    if (seeds.size === 1 && count.get(k)! > 1) throw new AnalyzeError(`the ${count.get(k)} ${k} runs all have seed ${[...seeds][0]}: held-out checks need each run's own seed (import --external --seed N, or a seed column in --config-table)`);
  }
  for (const field of SHARED) {
    const values = [...new Set(data.map((d) => String(d.run.config[field])))];
    if (values.length > 1) throw new AnalyzeError(`the selected runs differ in ${field} (${values.join(', ')}): one analysis needs one rule; select them apart`);
  }
  const uniq = <T extends string | number>(xs: T[]): T[] => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const spec: StudySpec = studySpec ?? {
    version: 1,
    name,
    preset: 'reference',
    overrides: {},
    tasks: uniq(data.map((d) => d.run.config.task)),
    archs: uniq(data.map((d) => d.run.config.arch)),
    conditions: uniq(data.map((d) => d.run.config.condition)),
    seeds: uniq(data.map((d) => d.run.config.seed)),
    earlyStopEvals: 0,
  };
  let planned: number | null = null;
  try {
    const plan = studySpec ? planRuns(studySpec) : null;
    planned = plan ? plan.length : null;
    // In plan order, as the study's own report has them: resamples then do not depend on the
    // order a library stores its runs in (runs merged from several libraries analyse the same).
    if (plan) {
      const at = new Map(plan.map((p, i) => [p.key, i]));
      data.sort((a, b) => (at.get(a.key) ?? Infinity) - (at.get(b.key) ?? Infinity) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
  } catch {
    planned = null; // a spec today's rules cannot plan
  }
  return { data, skipped, spec, planned };
}

export interface AnalyzeRunsResult {
  summary: StudySummary;
  summaryPath: string;
  reportPath: string;
  figures: string[];
  runs: number;
  /** With --study: how many runs its spec plans (`runs` of them are covered). */
  planned: number | null;
  skipped: SelectedRuns['skipped'];
}

export async function analyzeLibraryRuns(libraryDir: string, sel: RunSelection, outDir: string, opts: { name?: string; alarmFrom?: AlarmFrom } = {}): Promise<AnalyzeRunsResult> {
  const name = opts.name ?? sel.study ?? 'analysis';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new AnalyzeError(`--name '${name}': letters, digits, ".", "_" and "-" only`);
  const { data, skipped, spec, planned } = await Library.with(libraryDir, (lib) => selectRuns(lib, sel, name));
  const summary = analyzeStudy(spec, data, 0, { alarmFrom: opts.alarmFrom });
  const stability = claimStability(spec, data, summary.claims, undefined, 0, opts.alarmFrom);
  for (const k of Object.keys(summary.claims) as (keyof typeof summary.claims)[]) summary.claims[k].stability = stability[k];
  return { summary, ...writeReport(outDir, summary, data), runs: data.length, planned, skipped };
}
