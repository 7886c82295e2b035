import { onsetSentence } from '../../core/study/onset-report.js';
import { verdictText } from '../../core/study/stability.js';
import type { StudySummary } from '../../core/study/summary.js';

/** What `study` and `analyze` print after the summary's path: verdicts, the onset question, C5's nulls, the detector's H̃ rows, a backend check. */
export function summaryLines(summary: StudySummary): string[] {
  const lines: string[] = [];
  for (const [k, c] of Object.entries(summary.claims)) lines.push(`  ${k}: ${verdictText(c)}${c.stability === null || c.stability === undefined ? '' : ` (stability ${c.stability.toFixed(2)})`}`);
  lines.push(...onsetLines(summary));
  // The headline first: within-setting negatives (detector protocol v2), then every negative, then each other kind.
  const rank = (kind: string): number => (kind.startsWith('within ') ? 0 : kind === 'all' ? 1 : 2);
  for (const r of summary.detection.filter((d) => d.signal === `H̃ ${summary.probe}`).sort((a, b) => rank(a.negativeKind) - rank(b.negativeKind))) {
    const stats = r.auroc === null ? `no AUROC (${r.positives} grokked, ${r.negatives} trained to the budget without grokking)` : `AUROC ${r.auroc.toFixed(2)}${r.aurocCI ? ` (${r.aurocCI[0].toFixed(2)}–${r.aurocCI[1].toFixed(2)})` : ''}, ${r.positives} grokked vs ${r.negatives} not`;
    const leads = r.leadRiseMedian === null || r.leadRiseMedian === undefined ? '' : `; median lead vs T_rise ${Math.round(r.leadRiseMedian)}, vs T_grok ${r.leadMedian === null ? '—' : Math.round(r.leadMedian)}`;
    lines.push(`  warning as a detector, ${r.task}${r.negativeKind === 'all' ? '' : ` (negatives: ${r.negativeKind})`}: ${stats}${leads}`);
  }
  const check = summary.check;
  if (check) lines.push(`on ${check.backend}: ${check.agreed} of 8 verdicts agree${check.agreed < 8 ? ` (differ: ${Object.entries(check.agree).filter(([, a]) => !a).map(([k]) => `${k} ${check.verdicts[k as keyof typeof check.verdicts]}`).join(', ')})` : ''}`);
  return lines;
}

/**
 * What `study` and `analyze` print of the onset question, one line per task and architecture
 * (the study's probe first, then the others), and C5 beside its nulls.
 */
function onsetLines(summary: StudySummary): string[] {
  const lines: string[] = [];
  const rows = [...summary.onset].sort((a, b) => Number(b.probe === summary.probe) - Number(a.probe === summary.probe));
  for (const r of rows) {
    const h = r.threshold === null ? 'no H̃*' : `H̃* ${r.threshold.toFixed(3)}${r.band ? ` (band ${r.band[0].toFixed(3)}–${r.band[1].toFixed(3)})` : ''}`;
    lines.push(`  onset, ${r.task} ${r.arch} ${r.probe} (${h}): ${onsetSentence(r)}`);
  }
  const pct = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(1)} %`);
  for (const f of summary.forecast) {
    lines.push(
      `  forecast, ${f.task} ${f.arch}: error ${pct(f.heldOutMeanRelError)} of T_grok (${pct(f.heldOutMeanRelErrorToGo)} of the time left); nulls: other seeds' mean T_grok ${pct(f.nulls.meanTGrok.relError)}, constant time-to-go ${pct(f.nulls.constantToGo.relError)}; ${f.beatsNulls === null ? 'not comparable' : f.beatsNulls ? 'beats both' : 'does not beat both'}`,
    );
  }
  return lines;
}
