import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StudyListItem, StudyReportTable, StudyReportView } from '../api.js';
import { Library } from '../library/library.js';
import { ApiError } from './validate.js';
import { planRuns, resolveStudySpec } from '../study/spec.js';
import type { StudySummary } from '../study/summary.js';
import { verdictText } from '../study/stability.js';

/**
 * The workbench's studies: the library's studies with their progress and verdicts (listStudies),
 * and a finished study's report as data the studies view draws (studyReport) — the verdicts, the
 * tables of report.html and its PNG figures — so that a researcher reads it in the app rather than
 * being handed a file path. The service writes a study's report to `<library>/reports/NAME`
 * (service.ts startStudy); that folder is where both read.
 *
 * The tables restate report.html's columns (core/study/report.ts builds HTML strings, not data);
 * a column added there is to be added here too.
 */
export function reportDirFor(libraryDir: string, name: string): string {
  return path.join(libraryDir, 'reports', name);
}

/** summary.json of a study's report in the library, or null when none was written there. */
function readSummary(libraryDir: string, name: string): { summary: StudySummary; writtenAt: string } | null {
  const file = path.join(reportDirFor(libraryDir, name), 'summary.json');
  if (!existsSync(file)) return null;
  return { summary: JSON.parse(readFileSync(file, 'utf8')) as StudySummary, writtenAt: statSync(file).mtime.toISOString() };
}

const verdictsOf = (summary: StudySummary): Record<string, string> => Object.fromEntries(Object.entries(summary.claims ?? {}).map(([k, c]) => [k, verdictText(c)]));

export async function listStudies(libraryDir: string, trainingHere: ReadonlySet<string>): Promise<StudyListItem[]> {
  const records = await Library.with(libraryDir, (lib) => lib.listStudies());
  return records.map((r) => {
    let spec: ReturnType<typeof resolveStudySpec> | null = null;
    let total = r.recorded;
    try {
      spec = resolveStudySpec(JSON.parse(r.spec));
      total = planRuns(spec).length;
    } catch {
      // A spec this version cannot read (written by another version): listed with what the library counts.
    }
    let verdicts: Record<string, string> | null = null;
    try {
      const read = readSummary(libraryDir, r.id);
      verdicts = read ? verdictsOf(read.summary) : null;
    } catch {
      verdicts = null; // a damaged summary.json: getStudyReport says what is wrong with it
    }
    return {
      name: r.id,
      status: r.status,
      trainingHere: trainingHere.has(r.id),
      total,
      done: r.completed,
      failed: r.failed,
      preset: spec?.preset ?? '?',
      tasks: spec?.tasks ?? [],
      archs: spec?.archs ?? [],
      conditions: spec?.conditions ?? [],
      seeds: spec?.seeds.length ?? 0,
      updatedAt: r.updatedAt,
      verdicts,
    };
  });
}

export function studyReport(libraryDir: string, name: string): StudyReportView {
  const dir = reportDirFor(libraryDir, name);
  let read: ReturnType<typeof readSummary>;
  try {
    read = readSummary(libraryDir, name);
  } catch (err) {
    throw new ApiError(`the report of study ${name} cannot be read (${path.join(dir, 'summary.json')}): ${(err as Error).message}`);
  }
  if (!read) {
    throw new ApiError(
      `study ${name} has no report in this library yet: the workbench writes one when the study ends; for a study run with \`grokscope study\`, \`grokscope analyze --study ${name} --out ${dir}\` writes it here`,
    );
  }
  const { summary: s, writtenAt } = read;
  const check = s.check;
  const claims = Object.entries(s.claims ?? {}).map(([claim, c]) => ({
    claim,
    verdict: c.verdict,
    text: verdictText(c),
    stability: typeof c.stability === 'number' ? c.stability : null,
    rule: c.rule,
    otherBackend: check ? `${check.verdicts[claim as keyof typeof check.verdicts]}${check.agree[claim as keyof typeof check.agree] ? '' : ' ✗'}` : null,
  }));
  const figuresDir = path.join(dir, 'figures');
  const figures = existsSync(figuresDir)
    ? readdirSync(figuresDir)
        .filter((f) => f.endsWith('.png'))
        .sort()
        .map((f) => ({ name: f.slice(0, -4), png: readFileSync(path.join(figuresDir, f)).toString('base64') }))
    : [];
  const rules = s.rules;
  return {
    name,
    writtenAt,
    probe: s.probe,
    rules: `T_grok at test accuracy ≥ ${rules.grokThreshold}; crossings persist ${rules.crossPersistence} evaluations and count ${rules.alarmFrom === 'start' ? 'from step 0 (the rule before 2026-12-05)' : `from memorisation on (train accuracy ≥ ${rules.memThreshold})`}; thresholds and forecasts are judged on held-out seeds.`,
    claims,
    tables: reportTables(s),
    figures,
    folder: dir,
  };
}

/** A number for display, or null (the view rounds numbers; undefined fields of older summaries become null). */
const n = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const range = (r: [number, number] | null | undefined, digits = 3): string | null => (r ? `${r[0].toPrecision(digits)} … ${r[1].toPrecision(digits)}` : null);
const pct = (x: number | null | undefined): string | null => (typeof x === 'number' ? `${Math.round(x * 100)} %` : null);
const median = (x: { median: number | null } | undefined): number | null => (x && x.median !== null ? Math.round(x.median) : null);

/** The tables of report.html, in its order, from a summary of any version (fields a version lacks show as —). */
export function reportTables(s: StudySummary): StudyReportTable[] {
  return [
    {
      id: 'onset',
      title: 'Onset: does the collapse come before generalisation begins, or during it?',
      note: 'Grokked baseline runs, each judged at the H̃* fitted on the other seeds’ runs. Before onset: the crossing at or before T_rise; during the climb: after T_rise, no later than T_grok. Leads (marker − crossing, steps) and test accuracy at the crossing are medians over runs crossing no later than T_grok.',
      columns: ['task', 'arch', 'probe', 'H̃*', 'band', 'grokked', 'before onset', 'during the climb', 'after grokking', 'below H̃* at T_mem', 'never crossed', 'lead vs T_rise', 'vs T_loss_peak', 'vs T_grok_50', 'vs T_grok', 'test acc at crossing', 'chance'],
      rows: (s.onset ?? []).map((r) => [
        r.task, r.arch, r.probe, n(r.threshold), range(r.band), r.n,
        r.place['before-onset'], r.place['during-climb'], r.place['after-grokking'], r.place['below-at-mem'], r.place.none,
        median(r.leads?.T_rise), median(r.leads?.T_loss_peak), median(r.leads?.T_grok_50), median(r.leads?.T_grok),
        n(r.testAccAtCross?.median), n(r.chance),
      ]),
    },
    {
      id: 'forecast',
      title: 'Forecast against nulls (C5)',
      note: 'Held-out mean error of the power-law forecast beside two nulls at the same forecast times (the other seeds’ mean T_grok; a constant time-to-go), relative to T_grok and to the time left.',
      columns: ['task', 'arch', 'runs', 'power law / T_grok', 'mean T_grok', 'constant time-to-go', 'power law / time left', 'mean T_grok', 'constant time-to-go', 'beats both'],
      rows: (s.forecast ?? []).map((f) => [
        f.task, f.arch, f.runs, pct(f.heldOutMeanRelError), pct(f.nulls?.meanTGrok.relError), pct(f.nulls?.constantToGo.relError),
        pct(f.heldOutMeanRelErrorToGo), pct(f.nulls?.meanTGrok.relErrorToGo), pct(f.nulls?.constantToGo.relErrorToGo),
        f.beatsNulls === null || f.beatsNulls === undefined ? null : f.beatsNulls ? 'yes' : 'no',
      ]),
    },
    {
      id: 'groups',
      title: 'Groups',
      note: 'Runs per task, architecture and condition: how many grokked and crossed H̃*, and the mean grokking step and lead.',
      columns: ['task', 'arch', 'condition', 'n', 'grokked', 'crossed', 'below H̃* at T_mem', 'mean T_grok', 'mean lead'],
      rows: (s.groups ?? []).map((g) => [g.task, g.arch, g.condition, g.n, g.grokked, g.crossed, n(g.belowAtMem), n(g.T_grok?.mean), n(g.lead?.mean)]),
    },
    {
      id: 'interventions',
      title: 'Interventions (vs baseline)',
      note: 'Delay of grokking against the baseline runs; censored: runs that did not grok within budget (counted at the budget). Manipulation check: intervention runs that held H̃ above H̃* through their baseline’s crossing window.',
      columns: ['task', 'arch', 'condition', 'mean delay', '95 % CI', 'p (Welch)', "Cohen's d", 'censored', 'H̃ held above H̃*'],
      rows: (s.interventions ?? []).map((r) => [r.task, r.arch, r.condition, n(r.delayMean), range(r.delayCI, 4), n(r.p), n(r.d), r.censored, r.manipulation?.assessed ? `${r.manipulation.held}/${r.manipulation.assessed}` : null]),
    },
    {
      id: 'detection',
      title: 'The warning as a detector',
      note: 'Per task and signal: positives grokked within their budget, negatives did not; AUROC with a 95 % bootstrap CI, the Youden operating point, median leads. Bold rows (within) are the headline: negatives of the positives’ own setting.',
      columns: ['task', 'signal', 'negatives', 'grokked vs not', 'AUROC', '95 % CI', 'threshold', 'false alarms', 'detected', 'median lead vs T_grok', 'vs T_rise', 'test acc at alarm', 'median lead at ≤ 10 % false alarms'],
      rows: (s.detection ?? []).map((r) => [
        r.task, r.signal, r.negativeKind, `${r.positives} vs ${r.negatives}`, n(r.auroc), range(r.aurocCI, 2), n(r.threshold),
        pct(r.falseAlarmRate), pct(r.truePositiveRate), n(r.leadMedian), n(r.leadRiseMedian), n(r.testAccAtAlarmMedian), n(r.leadAtFpr10),
      ]),
    },
    {
      id: 'necessity',
      title: 'Necessity without sufficiency',
      note: 'Does every run that groks cross H̃* first, and does every run that crosses grok?',
      columns: ['task', 'arch', 'n', 'crossed', 'grokked', 'grokked without crossing first', 'crossed without grokking', 'below H̃* at T_mem'],
      rows: (s.necessity ?? []).map((r) => [r.task, r.arch, r.n, r.crossed, r.grokked, r.grokkedWithoutCrossingFirst, r.crossedWithoutGrokking, n(r.belowAtMem)]),
    },
  ];
}
