import type { Dataset } from '../../tasks/dataset.js';
import { groupMismatch, type GroupMember } from '../engine.js';
import type { ModelConfig } from '../../models/config.js';
import { initParamsFor } from '../../models/init.js';
import type { TrainState } from '../trainer.js';
import { targetScaleAt, usesTemperature, type LogitTargets } from '../logit-temperature.js';
import type { ModelLayout } from './plans.js';
import { inUpdateWindow } from '../../spectra/spectral-edge.js';

/** What a WGSL group uploads once (its runs' training sets) and computes on the host (eigenvalues). */

/** Each run's training examples: tokens [S, n, 2], labels [S, n], and per run the examples of each token as a or b (CSR). */
export function trainingData(datasets: Dataset[], vocab: number): { tok: Uint32Array; labels: Uint32Array; csr: Uint32Array } {
  const n = datasets[0].trainIndices.length;
  const S = datasets.length;
  const tok = new Uint32Array(S * n * 2);
  const labels = new Uint32Array(S * n);
  const csrRun = 2 * (vocab + 1) + 2 * n;
  const csr = new Uint32Array(S * csrRun);
  datasets.forEach((ds, s) => {
    const a = new Uint32Array(n);
    const b = new Uint32Array(n);
    ds.trainIndices.forEach((row, k) => {
      a[k] = ds.inputs[row * 3];
      b[k] = ds.inputs[row * 3 + 1];
      tok[(s * n + k) * 2] = a[k];
      tok[(s * n + k) * 2 + 1] = b[k];
      labels[s * n + k] = ds.labels[row];
    });
    [a, b].forEach((col, j) => {
      const base = s * csrRun + j * (vocab + 1 + n);
      const off = csr.subarray(base, base + vocab + 1);
      for (const t of col) off[t + 1]++;
      for (let t = 0; t < vocab; t++) off[t + 1] += off[t];
      const fill = off.slice(0, vocab);
      const idx = csr.subarray(base + vocab + 1, base + vocab + 1 + n);
      col.forEach((t, k) => (idx[fill[t]++] = k));
    });
  });
  return { tok, labels, csr };
}

/** Why these members cannot run on the WGSL engine, or null when they can. */
export function wgslRefusal(members: GroupMember[]): string | null {
  const configs = members.map((m) => m.config);
  const mismatch = groupMismatch(configs);
  if (mismatch) return mismatch;
  const c0 = configs[0];
  if (configs.some((c) => c.beta1 !== c0.beta1 || c.beta2 !== c0.beta2 || c.eps !== c0.eps)) return 'runs differ in β₁, β₂ or ε';
  if (c0.dModel % c0.nHeads !== 0) return `dModel (${c0.dModel}) is not divisible by nHeads (${c0.nHeads})`;
  const steps = new Set(members.map((m) => m.state?.step ?? 0));
  if (steps.size > 1) return `runs resume from different steps (${[...steps].join(', ')})`;
  return null;
}

/**
 * The group's starting state on the host: parameters and moments flattened run after run (a
 * fresh run starts from its seeded initialisation with zero moments), per-run constants (8 floats
 * a run: lr, 1 − lr·wd, active, norm-matched, mix α, τ, logit-matched, entropy-penalty λ), the norm-matched targets
 * and the logit-matched target scales.
 */
export function hostSetup(members: GroupMember[], l: ModelLayout, model: ModelConfig, ds: Dataset) {
  const S = members.length;
  const states: TrainState[] = members.map((m) => m.state ?? { step: 0, params: initParamsFor(m.config, model, ds.vocab, ds.classes), m: {}, v: {} });
  const flat = (part: 'params' | 'm' | 'v'): Float32Array => {
    const out = new Float32Array(S * l.P);
    states.forEach((st, s) => {
      for (const name of l.names) if (st[part][name]) out.set(st[part][name].data, s * l.P + l.off[name]);
    });
    return out;
  };
  members.forEach((m) => {
    if (m.config.condition === 'norm-matched' && !m.normTargets) throw new Error('a norm-matched run needs the target weight-norm trajectory');
    if (m.config.condition === 'logit-matched' && !m.logitTargets) throw new Error('a logit-matched run needs the target logit-scale trajectory');
  });
  const mixing = members.map(({ config: c }) => c.condition === 'mix' && c.mixForm === 'orthogonal' && c.mixStrength > 0);
  const penalised = members.map(({ config: c }) => c.condition === 'mix' && c.mixForm === 'entropy-penalty' && c.mixStrength > 0);
  const hyper = new Float32Array(S * 8);
  const logitMatched = members.map(({ config: c }) => c.condition === 'logit-matched');
  members.forEach(({ config: c }, s) => hyper.set([c.lr, 1 - c.lr * c.weightDecay, 1, c.condition === 'norm-matched' ? 1 : 0, mixing[s] ? c.mixStrength : 0, usesTemperature(c) && !logitMatched[s] ? (c.temperature ?? 1) : 1, logitMatched[s] ? 1 : 0, penalised[s] ? c.mixStrength : 0], s * 8));
  // A logit-matched run's target scale at every step of its budget (NaN where its target run has none: that step fails with targetScaleAt's message).
  const scaleSteps = members[0].config.steps + 1;
  const scaleTargets = new Float32Array(S * scaleSteps);
  members.forEach((m, s) => {
    if (!logitMatched[s]) return;
    for (let k = 0; k < scaleSteps; k++) {
      try {
        scaleTargets[s * scaleSteps + k] = targetScaleAt(m.logitTargets!, k);
      } catch {
        scaleTargets[s * scaleSteps + k] = NaN;
      }
    }
  });
  const normTargets = members.map((m) => (m.config.condition === 'norm-matched' ? m.normTargets : undefined));
  const targetsPerRun = Math.max(1, ...normTargets.map((t) => t?.length ?? 0));
  const targets = new Float32Array(S * targetsPerRun);
  normTargets.forEach((t, s) => t && targets.set(t, s * targetsPerRun));
  return { step: states[0].step, flat, mixing, penalised, hyper, normTargets, targetsPerRun, targets, logitMatched, scaleSteps, scaleTargets };
}

/** Throws, in the trainer's words, where an active run's target trajectory has no value for step t. */
export function checkTargets(t: number, frozen: boolean[], norm: (Float64Array | undefined)[], logit: (LogitTargets | undefined)[]): void {
  logit.forEach((targets, s) => {
    if (targets && !frozen[s]) targetScaleAt(targets, t - 1); // throws, naming the steps it covers
  });
  norm.forEach((targets, s) => {
    if (!targets || frozen[s]) return;
    const target = targets[t];
    if (target === undefined || !Number.isFinite(target)) throw new Error(`the norm-matched target has no weight norm for step ${t}`);
  });
}

/**
 * Which steps the group's update ring holds (one ring slot per step mod W, shared bookkeeping for
 * all runs): a step is recorded where it is in an evaluation's window (spectra/spectral-edge.ts).
 */
export class RingSteps {
  private readonly at: number[];

  constructor(
    readonly W: number,
    private readonly every: number,
    private readonly last: number,
  ) {
    this.at = Array(W).fill(-1);
  }

  /** Whether step t's update goes into the ring (and notes that it does). */
  record(t: number): boolean {
    if (!inUpdateWindow(t, this.every, this.last, this.W)) return false;
    this.at[t % this.W] = t;
    return true;
  }

  /** Whether the ring holds every update of steps (e − W, e]. */
  holds(e: number): boolean {
    for (let t = e - this.W + 1; t <= e; t++) if (t < 1 || this.at[t % this.W] !== t) return false;
    return true;
  }
}
