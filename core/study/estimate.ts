import type { PlannedRun } from './spec.js';
import { isS5Task } from '../tasks/groups.js';

/**
 * How long a study will take, from step rates measured on this library's completed runs: for
 * each planned run, the median rate (steps per second, wall clock from the run's creation to its
 * last update) of the completed runs of the same architecture and sizes; the study's steps at
 * those rates, spread over the pool's workers. An upper bound when runs stop early after grokking,
 * and rough (a resumed run's pause counts in its duration; run groups train faster than one by
 * one): it says which runs it measured, or why it has no estimate.
 */
export interface MeasuredRun {
  arch: string;
  dModel: number;
  dMlp: number;
  p: number;
  task: string;
  steps: number;
  seconds: number;
}

export interface StudyEstimate {
  runs: number;
  totalSteps: number;
  seconds: number | null;
  basis: string;
}

const shapeOf = (c: { arch: string; dModel: number; dMlp: number; p: number; task: string }): string => `${c.arch} d=${c.dModel} mlp=${c.dMlp} ${isS5Task(c.task) ? c.task : `p=${c.p}`}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * `speeds`: `auto`'s measured training speed of a shape on this machine (the fastest backend's ms
 * per run-step, as { steps: 1, seconds }), used for shapes with no completed run here; those
 * figures time training steps only, so the estimate says it leaves evaluations out.
 */
export function estimateStudy(plan: PlannedRun[], measured: MeasuredRun[], workers: number, speeds: MeasuredRun[] = []): StudyEstimate {
  const totalSteps = plan.reduce((s, r) => s + r.config.steps, 0);
  const rates = new Map<string, number[]>();
  for (const m of measured) if (m.seconds > 0 && m.steps > 0) rates.set(shapeOf(m), [...(rates.get(shapeOf(m)) ?? []), m.steps / m.seconds]);
  const speedRates = new Map<string, number>();
  for (const m of speeds) if (m.seconds > 0 && m.steps > 0) speedRates.set(shapeOf(m), Math.max(speedRates.get(shapeOf(m)) ?? 0, m.steps / m.seconds));
  let seconds = 0;
  const missing = new Set<string>();
  const used = new Map<string, number>();
  const fromSpeeds = new Set<string>();
  for (const r of plan) {
    const shape = shapeOf(r.config);
    const rs = rates.get(shape);
    if (rs) {
      used.set(shape, rs.length);
      seconds += r.config.steps / median(rs);
    } else if (speedRates.has(shape)) {
      fromSpeeds.add(shape);
      seconds += r.config.steps / speedRates.get(shape)!;
    } else missing.add(shape);
  }
  if (missing.size) return { runs: plan.length, totalSteps, seconds: null, basis: `no completed runs of ${[...missing].join(', ')} in this library to measure a step rate from` };
  const per = [...used].map(([shape, n]) => `${shape}: median of ${n} run${n === 1 ? '' : 's'}`);
  const speed = [...fromSpeeds].map((shape) => `${shape}: auto's measured training speed on this machine, evaluations not counted`);
  const source = used.size ? `measured on this library's completed runs (${[...per, ...speed].join('; ')})` : `from ${speed.join('; ')}`;
  return { runs: plan.length, totalSteps, seconds: seconds / Math.max(1, workers), basis: `${source}, over ${workers} worker${workers === 1 ? '' : 's'}; less if runs stop early after grokking` };
}
