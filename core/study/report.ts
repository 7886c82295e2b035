import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as echarts from 'echarts';
import { Resvg } from '@resvg/resvg-js';
import type { StudyRunData, StudySummary } from './analyze.js';
import { studyFigures, type ChartOption } from './charts.js';
import { isControlKey } from './spec.js';
import { STABILITY_RESAMPLES, UNSTABLE_BELOW, verdictText } from './stability.js';

const require = createRequire(import.meta.url);

/** SVG of a chart by ECharts' server-side renderer. */
export function renderSvg(option: ChartOption, width = 720, height = 380): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ backgroundColor: '#ffffff', ...option, animation: false });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function renderPng(option: ChartOption): Buffer {
  return new Resvg(renderSvg(option), { background: '#ffffff', font: { loadSystemFonts: true } }).render().asPng();
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const fmt = (x: unknown, digits = 3): string =>
  x === null || x === undefined ? '—' : typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toPrecision(digits)) : esc(String(x));

/** The self-contained HTML report: ECharts inlined, data embedded; opens offline. */
/** C6's figures beside its verdict: S5's own H̃* and whether its CI overlaps the Z/pZ task's (docs/preregistration.md §2). */
function s5Line(summary: StudySummary): string {
  const c6 = summary.claims.C6;
  if (c6.verdict === 'not-run') return '';
  const ci = (x: unknown): string => (Array.isArray(x) ? `${fmt(x[0] as number)} … ${fmt(x[1] as number)}` : '—');
  const other = c6.comparedWith as { task: string; threshold: number | null; thresholdCI: unknown } | null;
  const agreement = c6.thresholdAgreement === 'agree' ? 'their 95 % CIs overlap' : c6.thresholdAgreement === 'differ' ? 'their 95 % CIs do not overlap' : 'not assessed';
  return `<p>C6 on S5: H̃* ${fmt(c6.threshold as number | null)} (95 % CI ${ci(c6.thresholdCI)})${other ? `; ${esc(other.task)}: ${fmt(other.threshold)} (${ci(other.thresholdCI)}) — ${agreement}` : ''}. The paper reports one H̃* ≈ 0.61 for both.</p>${summary.claims.C8.s5MeanCorrelation === null || summary.claims.C8.s5MeanCorrelation === undefined ? '' : `<p>C8 beside its rule: mean per-run correlation of S5's irrep top share with −H̃ ${fmt(summary.claims.C8.s5MeanCorrelation as number)} (Transformer baselines).</p>`}`;
}

export function reportHtml(summary: StudySummary, figures: { name: string; option: ChartOption }[]): string {
  const echartsJs = readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  const claims = Object.entries(summary.claims)
    .map(([k, c]) => {
      const other = summary.check ? `<td class="v-${summary.check.verdicts[k as keyof typeof summary.claims]}">${summary.check.verdicts[k as keyof typeof summary.claims]}${summary.check.agree[k as keyof typeof summary.claims] ? '' : ' ✗'}</td>` : '';
      return `<tr><td>${k}</td><td class="v-${c.verdict}">${esc(verdictText(c))}</td><td>${c.stability === undefined || c.stability === null ? '—' : c.stability.toFixed(2)}</td>${other}<td>${esc(c.rule)}</td></tr>`;
    })
    .join('');
  const groups = summary.groups
    .map((g) => `<tr><td>${esc(g.task)}</td><td>${esc(g.arch)}</td><td>${esc(g.condition)}</td><td>${g.n}</td><td>${g.grokked}</td><td>${g.crossed}</td><td>${g.belowAtMem ?? '—'}</td><td>${fmt(g.T_grok.mean, 4)}</td><td>${fmt(g.lead.mean, 4)}</td></tr>`)
    .join('');
  const interventions = summary.interventions
    .map((r) => `<tr><td>${esc(r.task)}</td><td>${esc(r.arch)}</td><td>${esc(r.condition)}</td><td>${fmt(r.delayMean, 4)}</td><td>${r.delayCI ? `${fmt(r.delayCI[0], 4)} … ${fmt(r.delayCI[1], 4)}` : '—'}</td><td>${fmt(r.p)}</td><td>${fmt(r.d)}</td><td>${r.censored}</td><td>${r.manipulation.assessed ? `${r.manipulation.held}/${r.manipulation.assessed}` : '—'}</td></tr>`)
    .join('');
  const necessity = summary.necessity
    .map((r) => `<tr><td>${esc(r.task)}</td><td>${esc(r.arch)}</td><td>${r.n}</td><td>${r.crossed}</td><td>${r.grokked}</td><td>${r.grokkedWithoutCrossingFirst}</td><td>${r.crossedWithoutGrokking}</td><td>${r.belowAtMem ?? '—'}</td></tr>`)
    .join('');
  const pct = (x: number | null): string => (x === null ? '—' : `${Math.round(x * 100)} %`);
  const detection = summary.detection
    .map((r) => `<tr${r.headline ? ' class="headline"' : ''}><td>${esc(r.task)}</td><td>${esc(r.signal)}</td><td>${esc(r.negativeKind)}</td><td>${r.positives} vs ${r.negatives}</td><td>${fmt(r.auroc, 2)}</td><td>${r.aurocCI ? `${fmt(r.aurocCI[0], 2)} … ${fmt(r.aurocCI[1], 2)}` : '—'}</td><td>${fmt(r.threshold)}</td><td>${pct(r.falseAlarmRate)}</td><td>${pct(r.truePositiveRate)}</td><td>${fmt(r.leadMedian, 4)}</td><td>${fmt(r.leadRiseMedian ?? null, 4)}</td><td>${fmt(r.testAccAtAlarmMedian ?? null)}</td><td>${r.beyondAtMem ? `${r.beyondAtMem.positives} / ${r.beyondAtMem.negatives}` : '—'}</td><td>${fmt(r.leadAtFpr10, 4)}</td></tr>`)
    .join('');
  const med = (x: { median: number | null }): string => fmt(x.median === null ? null : Math.round(x.median), 4);
  const onset = (summary.onset ?? [])
    .map(
      (r) =>
        `<tr><td>${esc(r.task)}</td><td>${esc(r.arch)}</td><td>${esc(r.probe)}</td><td>${fmt(r.threshold)}${r.band ? ` (${fmt(r.band[0])} … ${fmt(r.band[1])})` : ''}</td><td>${r.n}</td><td>${r.place['before-onset']}</td><td>${r.place['during-climb']}</td><td>${r.place['after-grokking']}</td><td>${r.place['below-at-mem']}</td><td>${r.place.none}</td><td>${med(r.leads.T_rise)}</td><td>${med(r.leads.T_loss_peak)}</td><td>${med(r.leads.T_grok_50)}</td><td>${med(r.leads.T_grok)}</td><td>${fmt(r.testAccAtCross.median)}${r.testAccAtCross.max === null ? '' : ` (max ${fmt(r.testAccAtCross.max)})`}</td><td>${fmt(r.chance)}</td></tr>`,
    )
    .join('');
  const forecastRows = summary.forecast
    .map((f) => `<tr><td>${esc(f.task)}</td><td>${esc(f.arch)}</td><td>${f.runs}</td><td>${pct(f.heldOutMeanRelError)}</td><td>${pct(f.nulls?.meanTGrok.relError ?? null)}</td><td>${pct(f.nulls?.constantToGo.relError ?? null)}</td><td>${pct(f.heldOutMeanRelErrorToGo ?? null)}</td><td>${pct(f.nulls?.meanTGrok.relErrorToGo ?? null)}</td><td>${pct(f.nulls?.constantToGo.relErrorToGo ?? null)}</td><td>${f.beatsNulls === null || f.beatsNulls === undefined ? '—' : f.beatsNulls ? 'yes' : 'no'}</td></tr>`)
    .join('');
  const divs = figures.map((f, i) => `<div class="chart" id="fig${i}"></div>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Grokscope study ${esc(summary.study)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}
.chart{width:100%;height:380px;margin:1em 0}.v-reproduced{color:#1a7f37;font-weight:bold}.v-refuted{color:#c62828;font-weight:bold}.v-inconclusive{color:#9a6700}.v-not-run{color:#777}.v-not-measured{color:#777;font-style:italic}tr.headline td{font-weight:bold}</style>
<script>${echartsJs}</script></head><body>
<h1>Study ${esc(summary.study)}</h1>
<p>Probe ${esc(summary.probe)}; T_grok at test accuracy ≥ ${summary.rules.grokThreshold}; crossings persist ${summary.rules.crossPersistence} evaluations and count ${summary.rules.alarmFrom === 'start' ? 'from step 0 (the rule before 2026-12-05)' : `from memorisation on (train accuracy ≥ ${summary.rules.memThreshold}); a run whose H̃ is below H̃* already at memorisation warns of nothing`}. Thresholds and forecasts are judged on held-out seeds; H̃* is the midpoint of its admissible band (the longest run of thresholds that warn the most grokked runs). This H̃* is fitted here, on the study's own training seeds; the workbench's views of single runs and selections (run view, compare, live forecast, <code>grokscope show</code>) judge runs at their configured H̃* (entropyThreshold), so as not to judge runs at a value fitted on them.</p>
<h2>Claims</h2><p>Stability: the share of ${STABILITY_RESAMPLES} seed-bootstrap resamples whose analysis reaches the same verdict; below ${UNSTABLE_BELOW} a verdict is marked unstable.</p>${summary.check ? `<p>Checked on a second backend: the same runs trained with <code>${esc(summary.check.backend)}</code> (the study's runs ran on ${esc(summary.check.studyBackends.join(', '))}); ${summary.check.agreed} of 8 verdicts agree (✗: they differ).</p>` : ''}<table><tr><th>claim</th><th>verdict</th><th>stability</th>${summary.check ? `<th>on ${esc(summary.check.backend)}</th>` : ''}<th>rule</th></tr>${claims}</table>
<h2>Onset: does the collapse come before generalisation begins, or during it?</h2><p>Grokked baseline runs, each judged at the H̃* fitted on the other seeds' runs. T_rise: first evaluation with test accuracy ≥ 10 % of the way from chance to 1; T_loss_peak: the largest test loss between T_mem and T_grok (where it turns down); T_grok_50 and T_grok: 50 % and 95 %. "Before onset": the crossing at or before T_rise; "during the climb": after T_rise, no later than T_grok. Leads (marker − crossing, steps) and test accuracy at the crossing are medians over runs crossing no later than T_grok.</p><table><tr><th>task</th><th>arch</th><th>probe</th><th>H̃* (band)</th><th>grokked</th><th>before onset</th><th>during the climb</th><th>after grokking</th><th>below H̃* at T_mem</th><th>never crossed</th><th>lead vs T_rise</th><th>vs T_loss_peak</th><th>vs T_grok_50</th><th>vs T_grok</th><th>test acc at crossing</th><th>chance</th></tr>${onset}</table>
<h2>Forecast against nulls (C5)</h2><p>Held-out mean error of the power-law forecast beside two nulls at the same forecast times: the other seeds' mean T_grok, and a constant time-to-go fitted on the training pairs; relative to T_grok and to the time left (T_grok − t).</p><table><tr><th>task</th><th>arch</th><th>runs</th><th>power law / T_grok</th><th>mean T_grok</th><th>constant time-to-go</th><th>power law / time left</th><th>mean T_grok</th><th>constant time-to-go</th><th>beats both</th></tr>${forecastRows}</table>
<h2>Groups</h2><table><tr><th>task</th><th>arch</th><th>condition</th><th>n</th><th>grokked</th><th>crossed</th><th>below H̃* at T_mem</th><th>mean T_grok</th><th>mean lead</th></tr>${groups}</table>
<h2>Interventions (vs baseline)</h2><table><tr><th>task</th><th>arch</th><th>condition</th><th>mean delay</th><th>95 % CI</th><th>p (Welch)</th><th>Cohen's d</th><th>censored</th><th>H̃ held above H̃* (manipulation check)</th></tr>${interventions}</table>
${s5Line(summary)}
${summary.claims.C4.logitMatched ? `<p>Logit scale: of the mix's mean delay, ${fmt(summary.claims.C4.delayLeftAfterLogitMatch === null ? null : (summary.claims.C4.delayLeftAfterLogitMatch as number) * 100, 3)} % is left once a baseline's logit scale replays the mix run's (logit-matched row; 100 %: logit scale accounts for none of it, 0 %: for all).</p>` : ''}
<p>Manipulation check: an intervention run held the collapse off when its H̃ did not cross H̃* (same persistence rule) between its own baseline's crossing and that baseline's grokking step; runs whose baseline never crossed cannot be checked.</p>
<h2>The warning as a detector</h2><p>Per task and signal, over all of the task's runs: positives grokked within their budget, negatives were trained to their budget without grokking; an alarm (the signal beyond a threshold for the crossing persistence, in a window starting at or after T_mem) counts only once known, and only before T_grok; a run that did not grok is watched from its T_mem for the median T_grok − T_mem of the positives (the same span). Rows "within …" (bold) are the headline: negatives of the positives' own setting. † reads the test labels (so do restricted loss and the DMD residual). AUROC with a 95 % bootstrap CI; the operating point maximises detections − false alarms (Youden, in-sample). No AUROC: the study has no run of one class. Where the negatives are of several kinds (a detection control's setting, or an architecture and condition), each kind has its own rows: its runs that did not grok against the study's own runs that grokked.</p><table><tr><th>task</th><th>signal</th><th>negatives</th><th>grokked vs not</th><th>AUROC</th><th>95 % CI</th><th>threshold</th><th>false alarms</th><th>detected</th><th>median lead vs T_grok</th><th>vs T_rise</th><th>test acc at alarm</th><th>past the threshold at T_mem (grokked / not)</th><th>median lead at ≤ 10 % false alarms</th></tr>${detection}</table>
<h2>Necessity without sufficiency</h2><table><tr><th>task</th><th>arch</th><th>n</th><th>crossed</th><th>grokked</th><th>grokked without crossing first</th><th>crossed without grokking</th><th>below H̃* at T_mem</th></tr>${necessity}</table>
<h2>Figures</h2>${divs}
<script>const figures=${JSON.stringify(figures.map((f) => f.option)).replace(/</g, '\\u003c')};
figures.forEach((o,i)=>echarts.init(document.getElementById('fig'+i)).setOption(o));</script>
<h2>Summary data</h2><details><summary>summary.json</summary><pre>${esc(JSON.stringify(summary, null, 1))}</pre></details>
</body></html>`;
}

export function writeReport(outDir: string, summary: StudySummary, runs: StudyRunData[]): { summaryPath: string; reportPath: string; figures: string[] } {
  mkdirSync(path.join(outDir, 'figures'), { recursive: true });
  // Detection controls are in the detection table only, not in the condition figures.
  const figures = studyFigures(summary, runs.filter((r) => !isControlKey(r.key)));
  const summaryPath = path.join(outDir, 'summary.json');
  writeFileSync(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  const reportPath = path.join(outDir, 'report.html');
  writeFileSync(reportPath, reportHtml(summary, figures));
  const pngs = figures.map((f) => {
    const file = path.join(outDir, 'figures', `${f.name}.png`);
    writeFileSync(file, renderPng(f.option));
    return file;
  });
  return { summaryPath, reportPath, figures: pngs };
}
