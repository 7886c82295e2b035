/// <reference types="@webgpu/types" />
import type { RunConfig } from '../../schema/run-config.js';
import type { EvalRecord } from '../../schema/eval-record.js';
import type { Dataset } from '../../tasks/dataset.js';
import { probesFor } from '../../models/config.js';
import { measure } from '../eval/record.js';
import { strongest } from '../../spectra/residues.js';
import { tridiagonalEigenvaluesHere } from '../eval/eigen.js';
import { countRead, evalCounters } from '../eval/counters.js';
import type { ReadRegion } from './device.js';
import type { Dispatch, Entry, Recorder } from './program.js';
import { logitScaleKernel } from './kernels.js';
import { UPDATE_GRAM } from './update-kernels.js';
import { UPDATE_WINDOW } from '../../schema/eval-record.js';
import { GpuProgress } from './progress-readout.js';
import { GpuExampleSummary } from './example-summary.js';
import { GpuTridiagonal } from './tridiagonal.js';
import { GpuWeights } from './weight-readout.js';
import { activations, evalEntries, forwardEntries, type Activations, type ModelLayout, type ProbeSource } from './plans.js';

/**
 * Evaluations of a WGSL group: a forward pass over every pair of the task for a chunk of runs,
 * then on the device the per-example numbers, the probes' means and covariances and Σθ² per
 * tensor, and their reductions (issue 36: ≤ 64 KiB read back per run-evaluation at the reference
 * preset): the per-example summary (example-summary.ts), every covariance as a tridiagonal
 * (tridiagonal.ts), the weights' ESDs and powers per frequency or irrep (weight-readout.ts), the
 * progress measures' sums (progress-readout.ts). One read brings back only those; the host finds
 * the tridiagonals' eigenvalues in float64 and eval/record.ts builds the record, as for every
 * other engine.
 *
 * Chunks: as many runs as fit in EVAL_BUDGET bytes of activations and the adapter's largest
 * binding; the chunk's dispatches are recorded the first time it is evaluated.
 */
const EVAL_BUDGET = 512 * 2 ** 20;

export class GpuEvaluator {
  private readonly chunk: number;
  private readonly nAll: number;
  private readonly acts: Activations;
  private readonly programs = new Map<string, Entry[]>();
  private readonly forwards = new Map<string, Entry[]>();
  /** The step uniform evaluations read a logit-matched run's target from (t = step + 1). */
  private readonly evalStep: GPUBuffer;
  private readonly bufs: Record<string, GPUBuffer>;
  private readonly probes: ReturnType<typeof probesFor>;
  private readonly widths: number[];
  /** The progress measures' device half (residue tasks; null otherwise). */
  private readonly progress: GpuProgress | null;
  /** The per-example numbers' means and quantiles, reduced on the device. */
  private readonly examples: GpuExampleSummary;
  /** The probes' covariances brought to tridiagonals on the device (the host finds their eigenvalues). */
  private readonly tridiagonal: GpuTridiagonal;
  /** The weight matrices' spectra and Fourier powers, on the device. */
  private readonly weights: GpuWeights;

  constructor(
    private readonly rec: Recorder,
    private readonly l: ModelLayout,
    private readonly group: Record<string, GPUBuffer>,
    private readonly size: number,
    /** Each run's dataset (the same pairs in the same order; its own split). */
    private readonly datasets: Dataset[],
    private readonly configs: RunConfig[],
    private readonly matched: boolean[],
    private readonly targetsPerRun: number,
  ) {
    const ds = datasets[0];
    const n = ds.labels.length;
    this.nAll = n;
    const { d, h, classes: C, heads, vocab: V } = l;
    const perRun = 4 * (n * (C + 5 + h + 4 * d + 3 * heads) + (V + 3) * 2 * d + V * 2 * h);
    const widest = 4 * n * Math.max(h, C, d, 5);
    const byBinding = Math.floor(rec.device.limits.maxStorageBufferBindingSize / widest);
    if (byBinding < 1) throw new Error(`an evaluation over ${n} pairs needs ${(widest / 2 ** 20).toFixed(0)} MiB in one binding, over this adapter's limit`);
    this.chunk = Math.max(1, Math.min(this.size, byBinding, Math.floor(EVAL_BUDGET / perRun)));
    this.probes = probesFor(configs[0].arch);
    this.widths = this.probes.map((p) => (p === 'mlp.hidden' ? h : d));
    const k = this.chunk;
    const tok = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      tok[2 * i] = ds.inputs[3 * i];
      tok[2 * i + 1] = ds.inputs[3 * i + 1];
    }
    const meta = new Uint32Array(2 * l.names.length);
    l.names.forEach((name, t) => meta.set([l.off[name], l.shapes[name].reduce((a, b) => a * b, 1)], 2 * t));
    this.bufs = {
      tok: rec.buffer(tok.length, 'all pairs', tok),
      labels: rec.buffer(n, 'all labels', Uint32Array.from(ds.labels)),
      stats: rec.buffer(k * 5 * n, 'per-example numbers'),
      means: rec.buffer(k * this.widths.reduce((a, b) => a + b, 0), 'probe means'),
      covs: rec.buffer(k * this.widths.reduce((a, w) => a + w * w, 0), 'probe covariances'),
      norms: rec.buffer(k * l.names.length, 'tensor norms'),
      meta: rec.buffer(meta.length, 'tensor table', meta),
      gram: rec.buffer(k * UPDATE_WINDOW * UPDATE_WINDOW, 'update Gram matrices'),
    };
    this.acts = activations(rec, l, k, n, { backward: false, mix: false });
    this.evalStep = rec.uniform(new ArrayBuffer(64), 'evaluation step');
    this.examples = new GpuExampleSummary(rec, datasets, k, this.bufs.stats);
    this.progress = GpuProgress.create(rec, configs, datasets, k, this.acts.logits, group.hyper, this.examples.split);
    let at = 0;
    const layout = this.widths.map((n) => ({ n, offset: (at += n * n) - n * n }));
    this.tridiagonal = new GpuTridiagonal(rec, this.bufs.covs, layout, at, k, tridiagonalEigenvaluesHere());
    this.weights = new GpuWeights(rec, l, group.params, configs[0], ds.task, k, tridiagonalEigenvaluesHere());
  }

  /** The forward over every pair for runs c0 … c0 + runs − 1 into the evaluation's activations (recorded once per range). */
  private forward(c0: number, runs: number): Entry[] {
    const key = `${c0}:${runs}`;
    let f = this.forwards.get(key);
    if (!f) {
      const { l, acts: a, group: g, bufs: b } = this;
      f = forwardEntries(this.rec, l, { ...a, runs }, { params: g.params, pBase: c0 * l.P, tok: b.tok, tokRun: 0, hyper: g.hyper, spare: g.spare });
      this.forwards.set(key, f);
    }
    return f;
  }

  /** Whether any of runs c0 … c0 + runs − 1 is logit-matched. */
  private matchedIn(c0: number, runs: number): boolean {
    return this.matched.slice(c0, c0 + runs).some(Boolean);
  }

  /** τ of the logit-matched runs in the range from their logit scale now (`step`: the step uniform to read t from). */
  private scaleEntry(c0: number, runs: number, step: GPUBuffer): Entry {
    const { group: g } = this;
    return this.rec.dispatch(logitScaleKernel(this.l.classes), 'logit-matched temperature', [this.acts.logits, g.hyper, g.logitTargets, this.rec.quad([this.nAll, c0, this.targetsPerRun], 'logit scale'), step], [1, 1, runs]);
  }

  /**
   * What a training step does first in a group with logit-matched runs: per range of them, a
   * forward over every pair and their τ for this step (each slot reading its own step uniform).
   */
  temperatureEntries(slots: GPUBuffer[]): Entry[] {
    const out: Entry[] = [];
    for (let c0 = 0; c0 < this.size; c0++) {
      if (!this.matched[c0]) continue;
      let last = c0;
      for (let i = c0; i < Math.min(this.size, c0 + this.chunk); i++) if (this.matched[i]) last = i;
      const runs = last - c0 + 1;
      out.push(...this.forward(c0, runs), slots.map((u) => this.scaleEntry(c0, runs, u) as Dispatch));
      c0 = last;
    }
    return out;
  }

  /** The dispatches evaluating runs c0 … c0 + runs − 1 (recorded once per range). */
  private program(c0: number, runs: number): Entry[] {
    const key = `${c0}:${runs}`;
    let p = this.programs.get(key);
    if (p) return p;
    const { l, acts: a, group: g, bufs: b } = this;
    const view: Activations = { ...a, runs };
    const pBase = c0 * l.P;
    const inputs = { params: g.params, pBase, tok: b.tok, tokRun: 0, hyper: g.hyper, spare: g.spare };
    const n = this.nAll;
    const sources: Record<string, ProbeSource> = {
      'resid.final': { name: 'resid.final', width: l.d, buffer: a.final, xOff: 0, xRun: n * l.d, rows: n },
      'mlp.hidden': { name: 'mlp.hidden', width: l.h, buffer: a.hidden, xOff: 0, xRun: n * l.h, rows: n },
      'attn.out': { name: 'attn.out', width: l.d, buffer: a.mid ?? a.final, xOff: 0, xRun: n * l.d, rows: n },
      embed: { name: 'embed', width: l.d, buffer: g.params, xOff: pBase + l.off.embed, xRun: l.P, rows: l.order },
    };
    const tau = this.matchedIn(c0, runs) ? [this.scaleEntry(c0, runs, this.evalStep)] : [];
    const gram = this.rec.dispatch(UPDATE_GRAM, 'update Gram matrices', [g.updateRing, b.gram, this.rec.quad([l.P, UPDATE_WINDOW, c0], 'gram')], [UPDATE_WINDOW * UPDATE_WINDOW, 1, runs]);
    p = [...this.forward(c0, runs), ...tau, gram, ...evalEntries(this.rec, l, view, { ...inputs, ...b, hyperOff: c0 * 8, probes: this.probes.map((name) => sources[name]) } as Parameters<typeof evalEntries>[3]), this.examples.entry(c0, runs), this.tridiagonal.entry(runs), ...(this.progress ? this.progress.sums(c0, runs) : [])];
    this.programs.set(key, p);
    return p;
  }

  async evaluate(
    indices: number[],
    withSpectra: boolean,
    read: (regions: ReadRegion[]) => Promise<Float32Array[]>,
    run: (entries: Entry[]) => void,
    stepOf: (i: number) => number,
    eigenvalues: (matrix: Float32Array, n: number) => Float64Array,
    ringHolds: (step: number) => boolean,
  ): Promise<EvalRecord[]> {
    const { l, bufs: b, chunk } = this;
    const records = new Map<number, EvalRecord>();
    // Ranges of at most `chunk` runs from the first run asked for: only the runs asked for (and
    // any between them) are computed.
    const sorted = [...new Set(indices)].sort((x, y) => x - y);
    while (sorted.length) {
      const c0 = sorted[0];
      const end = sorted.findIndex((i) => i >= c0 + chunk);
      const mine = sorted.splice(0, end === -1 ? sorted.length : end);
      const k = mine[mine.length - 1] - c0 + 1;
      // The targets are read at the step of the logit-matched runs asked for (a frozen run's is its own; one step for the range).
      const matchedRun = mine.find((i) => this.matched[i]);
      if (matchedRun !== undefined) this.rec.device.queue.writeBuffer(this.evalStep, 0, Uint32Array.from([0, 0, stepOf(matchedRun) + 1, 0]));
      run([...this.program(c0, k), ...this.weights.entriesFor(c0, k, withSpectra)]);
      const weightRegions = this.weights.regions(k, withSpectra);
      const regions: ReadRegion[] = [
        this.examples.region(k),
        this.tridiagonal.region(k),
        { buffer: b.norms, offset: 0, length: k * l.names.length },
        { buffer: b.gram, offset: 0, length: k * UPDATE_WINDOW * UPDATE_WINDOW },
        // The per-residue logit sums where the task has progress measures (p × C a run, not N × C).
        ...(this.progress ? [this.progress.region(k)] : []),
        ...weightRegions,
      ];
      const [summaries, tridiagonals, norms, gram, ...rest] = await read(regions);
      countRead(summaries, tridiagonals, norms, gram, ...rest);
      const sums = this.progress ? rest.shift()! : null;
      const weightReads = rest;
      const hostStarted = performance.now();
      const weightSummaries = new Map(mine.map((i) => [i, this.weights.summary(weightReads, i - c0, withSpectra)]));
      evalCounters.hostMs += performance.now() - hostStarted;
      const keyFreqsOf = (i: number): number[] => strongest(weightSummaries.get(i)!.keyPower!, this.configs[i].fourierK);
      const progress = this.progress && sums ? await this.progress.finish(c0, mine, sums, keyFreqsOf, run, read) : null;
      mine.forEach((i) => {
        const s = i - c0;
        const hostStarted = performance.now();
        const probeEigenvalues = this.widths.map((_, j) => this.tridiagonal.eigenvalues(tridiagonals, s, j));
        evalCounters.hostMs += performance.now() - hostStarted;
        records.set(
          i,
          measure({
            step: stepOf(i),
            dataset: this.datasets[i],
            config: this.configs[i],
            names: l.names,
            summary: this.examples.summary(summaries, s, i),
            probeEigenvalues,
            norms: norms.subarray(s * l.names.length, (s + 1) * l.names.length),
            progress: progress?.get(i),
            updateGram: ringHolds(stepOf(i)) ? gram.subarray(s * UPDATE_WINDOW ** 2, (s + 1) * UPDATE_WINDOW ** 2) : null,
            weightSummary: weightSummaries.get(i),
            eigenvalues,
            withSpectra,
          }),
        );
      });
    }
    return indices.map((i) => records.get(i)!);
  }
}
