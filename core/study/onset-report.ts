import { ONSET_MARKERS, type OnsetMarker } from '../analysis/onset.js';
import { summarize, type Summary } from '../analysis/stats.js';
import { estimateThreshold, leaveOneSeedOut } from '../analysis/threshold.js';
import { belowAtMem, markersOf, tCross, tGrok, warningTiming, type EventRules, type RunTrace } from '../analysis/trace.js';
import type { Rng } from '../rng.js';

/**
 * Does the collapse come before generalisation begins, or during it? Per task, architecture and
 * probe, over the grokked baseline runs judged on held-out seeds (H̃* fitted on the other seeds'
 * runs, as C2): where each run's warning crossing falls in its climb from chance to T_grok —
 * at or before T_rise (test accuracy still at chance), during the climb, after grokking, below
 * H̃* already at memorisation, or never — its lead against every onset marker, and test accuracy
 * at the crossing (docs/methods.md, "Onset of generalisation").
 */
/** `unplaced`: the run's chance level is unknown, so it has no T_rise to place a crossing against. */
export type OnsetPlace = 'before-onset' | 'during-climb' | 'after-grokking' | 'below-at-mem' | 'none' | 'unplaced';
export const ONSET_PLACES: readonly OnsetPlace[] = ['before-onset', 'during-climb', 'after-grokking', 'below-at-mem', 'none', 'unplaced'];

export interface OnsetRow {
  task: string;
  arch: string;
  probe: string;
  /** H̃* of this probe fitted on every grokked run, and its admissible band. */
  threshold: number | null;
  band: [number, number] | null;
  /** Grokked runs judged held out. */
  n: number;
  place: Record<OnsetPlace, number>;
  /** Over runs whose crossing came no later than T_grok: marker − T_cross, per marker (positive: the crossing came first). */
  leads: Record<OnsetMarker, Summary>;
  /** Test accuracy at the crossing, over the same runs. */
  testAccAtCross: Summary;
  /** Chance accuracy of the task (what "test accuracy at the crossing" is to be read against). */
  chance: number | null;
}

export interface OnsetRun {
  id: string;
  probe: string;
  T_cross: number | null;
  place: OnsetPlace;
  leads: Record<OnsetMarker, number | null>;
  testAccAtCross: number | null;
}

function placeOf(cross: number | null, belowAtMem: boolean, markers: Record<OnsetMarker, number | null>): OnsetPlace {
  if (belowAtMem) return 'below-at-mem';
  if (cross === null) return 'none';
  if (markers.T_grok !== null && cross > markers.T_grok) return 'after-grokking';
  if (markers.T_rise === null) return 'unplaced';
  if (cross <= markers.T_rise) return 'before-onset';
  return 'during-climb';
}

/**
 * The onset row of one probe's traces (grokked baseline runs enter; others are ignored), and each
 * run's figures: judged held out (each at the H̃* fitted on the other seeds), or at a `fixed` H̃*
 * (the configured one, as the workbench's views judge runs; no band then).
 */
export function onsetRow(task: string, arch: string, probe: string, traces: RunTrace[], rules: EventRules, rng: Rng, fixed?: number): { row: OnsetRow; runs: OnsetRun[] } {
  const estimate = fixed === undefined ? estimateThreshold(traces, rules, rng, 0) : { threshold: fixed, band: null };
  const held =
    fixed === undefined
      ? leaveOneSeedOut(traces, rules).filter((h) => h.T_grok !== null)
      : traces.filter((t) => tGrok(t, rules) !== null).map((t) => ({ id: t.id, T_cross: tCross(t, fixed, rules), belowAtMem: belowAtMem(t, fixed, rules) }));
  const byId = new Map(traces.map((t) => [t.id, t]));
  const runs: OnsetRun[] = held.map((h) => {
    const trace = byId.get(h.id)!;
    const markers = markersOf(trace, rules);
    const timing = warningTiming(trace, markers, h.T_cross);
    return { id: h.id, probe, T_cross: h.T_cross, place: placeOf(h.T_cross, h.belowAtMem, markers), leads: timing.leads, testAccAtCross: timing.testAccAtCross };
  });
  const warned = runs.filter((r) => r.place === 'before-onset' || r.place === 'during-climb' || r.place === 'unplaced');
  const place = Object.fromEntries(ONSET_PLACES.map((p) => [p, runs.filter((r) => r.place === p).length])) as Record<OnsetPlace, number>;
  const leads = Object.fromEntries(ONSET_MARKERS.map((m) => [m, summarize(warned.flatMap((r) => (r.leads[m] === null ? [] : [r.leads[m]!])))])) as Record<OnsetMarker, Summary>;
  const chance = traces.find((t) => t.chance !== undefined && Number.isFinite(t.chance))?.chance ?? null;
  return {
    row: {
      task,
      arch,
      probe,
      threshold: estimate.threshold,
      band: estimate.band?.band ?? null,
      n: runs.length,
      place,
      leads,
      testAccAtCross: summarize(warned.flatMap((r) => (r.testAccAtCross === null ? [] : [r.testAccAtCross]))),
      chance,
    },
    runs,
  };
}

/** One line a person reads: "7 of 9 before onset, 2 during the climb; median lead vs T_rise 450, test acc at crossing 0.03". */
export function onsetSentence(r: OnsetRow): string {
  if (r.n === 0) return 'no grokked runs to judge';
  const parts = [
    `${r.place['before-onset']} of ${r.n} before onset`,
    `${r.place['during-climb']} during the climb`,
    ...(r.place['after-grokking'] ? [`${r.place['after-grokking']} after grokking`] : []),
    ...(r.place['below-at-mem'] ? [`${r.place['below-at-mem']} below H̃* at memorisation`] : []),
    ...(r.place.none ? [`${r.place.none} never crossed`] : []),
    ...(r.place.unplaced ? [`${r.place.unplaced} unplaced (chance unknown)`] : []),
  ];
  const lead = (m: OnsetMarker): string => (r.leads[m].median === null ? '—' : Math.round(r.leads[m].median!).toLocaleString('en-US'));
  const acc = r.testAccAtCross.median === null ? '—' : r.testAccAtCross.median.toFixed(3);
  return `${parts.join(', ')}; median lead vs T_rise ${lead('T_rise')}, vs T_grok ${lead('T_grok')} steps; median test acc at the crossing ${acc}${r.chance !== null ? ` (chance ${r.chance.toFixed(3)})` : ''}`;
}
