import type { PlannedRun } from './spec.js';
import { isS5Task } from '../tasks/groups.js';

/**
 * How long a study will take, from step rates measured on this library's completed runs: for
 * each planned run, the median rate (steps per second, wall clock from the run's creation to its
 * last update) of the completed runs of the same architecture and sizes; the study's steps at
 * those rates, spread over the pool's workers. An upper bound when runs stop early after grokking,
 * and rough (a resumed run's pause counts in its duration; run groups train faster than one by
 * one): it says which runs it measured, or why it has no estimate. Shapes without completed runs
 * take `auto`'s speed figures, else a short run of the shape timed on this machine (ProbedRate).
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

/**
 * A short run of one shape timed on this machine just now (core/service/shape-rate.ts): training
 * steps and, where it fitted in the time allowed, one evaluation; used for shapes that neither
 * completed runs nor `auto`'s speed figures cover, so that an empty library still gets an estimate.
 */
export interface ProbedRate {
  arch: string;
  dModel: number;
  dMlp: number;
  p: number;
  task: string;
  /** The backend the short run trained on. */
  backend: string;
  steps: number;
  msPerStep: number;
  /** One evaluation's milliseconds; null where it was left out to keep the measurement short. */
  msPerEval: number | null;
}

/** The shape a step rate belongs to (what decides a step's cost), as the basis names it. */
export const shapeOf = (c: { arch: string; dModel: number; dMlp: number; p: number; task: string }): string => `${c.arch} d=${c.dModel} mlp=${c.dMlp} ${isS5Task(c.task) ? c.task : `p=${c.p}`}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * `speeds`: `auto`'s measured training speed of a shape on this machine (the fastest backend's ms
 * per run-step, as { steps: 1, seconds }), used for shapes with no completed run here; those
 * figures time training steps only, so the estimate says it leaves evaluations out. `probed`: short
 * runs timed just now for shapes nothing else covers (preferred to `speeds`: they count evaluations).
 */
export function estimateStudy(plan: PlannedRun[], measured: MeasuredRun[], workers: number, speeds: MeasuredRun[] = [], probed: ProbedRate[] = []): StudyEstimate {
  const totalSteps = plan.reduce((s, r) => s + r.config.steps, 0);
  const { rates, speedRates } = rateTables(measured, speeds);
  const probes = new Map(probed.map((m) => [shapeOf(m), m]));
  let seconds = 0;
  const missing = new Set<string>();
  const used = new Map<string, number>();
  const fromSpeeds = new Set<string>();
  const fromProbes = new Set<string>();
  for (const r of plan) {
    const shape = shapeOf(r.config);
    const rs = rates.get(shape);
    const probe = probes.get(shape);
    if (rs) {
      used.set(shape, rs.length);
      seconds += r.config.steps / median(rs);
    } else if (probe) {
      // Measured with its evaluations where they fitted in the time allowed: this run's own interval.
      fromProbes.add(shape);
      seconds += (r.config.steps * (probe.msPerStep + (probe.msPerEval ?? 0) / r.config.evalEvery)) / 1000;
    } else if (speedRates.has(shape)) {
      fromSpeeds.add(shape);
      seconds += r.config.steps / speedRates.get(shape)!;
    } else missing.add(shape);
  }
  if (missing.size) return { runs: plan.length, totalSteps, seconds: null, basis: `no completed runs of ${[...missing].join(', ')} in this library to measure a step rate from` };
  const per = [...used].map(([shape, n]) => `${shape}: median of ${n} run${n === 1 ? '' : 's'}`);
  const speed = [...fromSpeeds].map((shape) => `${shape}: auto's measured training speed on this machine, evaluations not counted`);
  const probe = [...fromProbes].map((shape) => probeText(probes.get(shape)!));
  const source = used.size ? `measured on this library's completed runs (${[...per, ...speed, ...probe].join('; ')})` : `from ${[...speed, ...probe].join('; ')}`;
  return { runs: plan.length, totalSteps, seconds: seconds / Math.max(1, workers), basis: `${source}, over ${workers} worker${workers === 1 ? '' : 's'}; less if runs stop early after grokking` };
}

export function rateTables(measured: MeasuredRun[], speeds: MeasuredRun[]): { rates: Map<string, number[]>; speedRates: Map<string, number> } {
  const rates = new Map<string, number[]>();
  for (const m of measured) if (m.seconds > 0 && m.steps > 0) rates.set(shapeOf(m), [...(rates.get(shapeOf(m)) ?? []), m.steps / m.seconds]);
  const speedRates = new Map<string, number>();
  for (const m of speeds) if (m.seconds > 0 && m.steps > 0) speedRates.set(shapeOf(m), Math.max(speedRates.get(shapeOf(m)) ?? 0, m.steps / m.seconds));
  return { rates, speedRates };
}

/** "transformer d=64 mlp=256 p=47: measured 40 steps of this shape on this machine now (wasm+openblas): 5.9 ms/step + 66 ms per evaluation". */
function probeText(p: ProbedRate): string {
  const ms = (x: number): string => String(Number(x.toPrecision(2)));
  const evals = p.msPerEval === null ? ', evaluations not counted' : ` + ${ms(p.msPerEval)} ms per evaluation`;
  return `${shapeOf(p)}: measured ${p.steps} steps of this shape on this machine now (${p.backend}): ${ms(p.msPerStep)} ms/step${evals}`;
}

/**
 * One run's config per shape that neither completed runs nor speed figures give a rate for: what
 * a short measured run must cover before the study has an estimate.
 */
export function shapesWithoutRate(plan: PlannedRun[], measured: MeasuredRun[], speeds: MeasuredRun[] = []): PlannedRun['config'][] {
  const { rates, speedRates } = rateTables(measured, speeds);
  const out = new Map<string, PlannedRun['config']>();
  for (const r of plan) {
    const shape = shapeOf(r.config);
    if (!rates.has(shape) && !speedRates.has(shape) && !out.has(shape)) out.set(shape, r.config);
  }
  return [...out.values()];
}
