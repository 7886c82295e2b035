import { onsetSentence } from '../../core/study/onset-report.js';
import type { StudySummary } from '../../core/study/summary.js';

/**
 * What `study` and `analyze` print of the onset question, one line per task and architecture
 * (the study's probe first, then the others), and C5 beside its nulls.
 */
export function onsetLines(summary: StudySummary): string[] {
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
