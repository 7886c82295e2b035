/// <reference types="@webgpu/types" />
import type { RunConfig } from '../../schema/run-config.js';
import type { Dataset } from '../../tasks/dataset.js';
import { cyclicStructure, residueTask, type CyclicStructure } from '../../spectra/residues.js';
import { progressFirstHalf, progressPlan, progressSecondHalf, type ProgressMeasures, type ProgressPlan } from '../../spectra/progress.js';
import { bindings, FLAT, FLAT_ARGS } from './kernels.js';
import { grid, type Entry, type Recorder } from './program.js';
import type { ReadRegion } from './device.js';
import { countRead, evalCounters } from '../eval/counters.js';

/**
 * Nanda's progress measures in a WGSL evaluation without reading every input's logits back (issue
 * 36: at the reference preset they were 3.65 MB of a run-evaluation's 5.4 MB). Their algebra
 * (spectra/progress.ts) needs the logits only through
 *  1. the per-residue totals U[s, c] (p × C: 37 KB at p = 97), summed on the device;
 *  2. after the host has the key frequencies (from the embedding, read anyway) and the
 *     projection on them: Σ over training pairs of the excluded logits' cross-entropy and the
 *     class-centred logits' squared norm — two numbers a run, computed on the device from the
 *     projection table the host writes back.
 * So an evaluation of a residue task takes a second, small read. The host's own path computes the
 * same halves from the logits (progressMeasures), and test/wgsl-group.test.ts holds the two
 * engines' records together.
 */

/** U[s, c] = Σ over the pairs of residue s of logits[·, c] / τ, for every run of the range (its z). */
function residueSumsKernel(): string {
  return /* wgsl */ `
struct U { n: u32, C: u32, p: u32, c0: u32 }
${bindings([['logits', 'r'], ['hyper', 'r'], ['csr', 'r u32'], ['sums', 'rw'], ['u', 'U']])}
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.p * u.C) { return; }
  let r = idx / u.C;
  let c = idx % u.C;
  let tau = hyper[(u.c0 + s) * 8u + 5u];
  var acc = 0.0;
  for (var k = csr[r]; k < csr[r + 1u]; k++) {
    let i = csr[u.p + 1u + k];
    acc += logits[(s * u.n + i) * u.C + c];
  }
  sums[(s * u.p + r) * u.C + c] = acc / tau;
}`;
}

/**
 * Per pair: the excluded logits' cross-entropy (training pairs of the run's split only) and the
 * squared norm of its class-centred logits; into tail[s, 0, i] and tail[s, 1, i]. `pairInfo` is the
 * residue of each pair (0xffffffff: outside the structure) then its label; `mp` per run the class
 * means then the projection table.
 */
function tailKernel(): string {
  return /* wgsl */ `
struct U { n: u32, C: u32, p: u32, c0: u32 }
${bindings([['logits', 'r'], ['hyper', 'r'], ['pairInfo', 'r u32'], ['split', 'r u32'], ['mp', 'r'], ['tail', 'rw'], ['u', 'U']])}
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n) { return; }
  let i = idx;
  let tau = hyper[(u.c0 + s) * 8u + 5u];
  let r = pairInfo[i];
  let base = (s * u.n + i) * u.C;
  let mBase = s * (u.C + u.p * u.C);
  var ex = 0.0;
  var sq = 0.0;
  if (r != 0xffffffffu) {
    for (var c = 0u; c < u.C; c++) {
      let dm = logits[base + c] / tau - mp[mBase + c];
      sq += dm * dm;
    }
    if (split[(u.c0 + s) * u.n + i] == 1u) {
      let pBase = mBase + u.C + r * u.C;
      var mx = -3.0e38;
      for (var c = 0u; c < u.C; c++) { mx = max(mx, logits[base + c] / tau - mp[pBase + c]); }
      var e = 0.0;
      for (var c = 0u; c < u.C; c++) { e += exp(logits[base + c] / tau - mp[pBase + c] - mx); }
      let y = pairInfo[u.n + i];
      ex = mx + log(e) - (logits[base + y] / tau - mp[pBase + y]);
    }
  }
  tail[s * 2u * u.n + i] = ex;
  tail[s * 2u * u.n + u.n + i] = sq;
}`;
}

export class GpuProgress {
  private readonly structure: CyclicStructure;
  private readonly p: number;
  private readonly C: number;
  private readonly n: number;
  private readonly bufs: Record<string, GPUBuffer>;
  private readonly plans = new Map<number, ProgressPlan>();
  private readonly sumEntries = new Map<string, Entry[]>();
  private readonly tailEntries = new Map<string, Entry[]>();

  /** Null where the task has no progress measures. */
  /** `split`: each run's pairs, 1 where a training pair (gpu/example-summary.ts's buffer). */
  static create(rec: Recorder, configs: RunConfig[], datasets: Dataset[], chunk: number, logits: GPUBuffer, hyper: GPUBuffer, split: GPUBuffer): GpuProgress | null {
    const task = residueTask(configs[0].task);
    return task ? new GpuProgress(rec, cyclicStructure(task, datasets[0].task.order), datasets, chunk, logits, hyper, split) : null;
  }

  private constructor(
    private readonly rec: Recorder,
    structure: CyclicStructure,
    private readonly datasets: Dataset[],
    chunk: number,
    private readonly logits: GPUBuffer,
    private readonly hyper: GPUBuffer,
    private readonly split: GPUBuffer,
  ) {
    const ds = datasets[0];
    this.structure = structure;
    this.p = structure.modulus;
    this.C = ds.classes;
    const n = ds.labels.length;
    this.n = n;
    // Every run of a group has the same pairs in the same order (only the split differs): the
    // first run's plan gives the residues of all.
    const first = progressPlan(structure, this.C, ds.inputs, ds.labels, ds.trainIndices, ds.testIndices);
    this.plans.set(0, first);
    const residues = first.residues;
    const off = new Uint32Array(this.p + 1);
    for (const r of residues) if (r >= 0) off[r + 1]++;
    for (let r = 0; r < this.p; r++) off[r + 1] += off[r];
    const ids = new Uint32Array(off[this.p]);
    const fill = off.slice(0, this.p);
    residues.forEach((r, i) => r >= 0 && (ids[fill[r]++] = i));
    const meta = new Uint32Array(2 * n);
    residues.forEach((r, i) => (meta[i] = r >= 0 ? r : 0xffffffff));
    meta.set(ds.labels, n);
    const csr = new Uint32Array(off.length + ids.length);
    csr.set(off);
    csr.set(ids, off.length);
    this.bufs = {
      csr: rec.buffer(csr.length, 'pairs by residue', csr),
      meta: rec.buffer(meta.length, 'residue and label of each pair', meta),
      sums: rec.buffer(chunk * this.p * this.C, 'per-residue logit sums'),
      mp: rec.buffer(chunk * (this.C + this.p * this.C), 'class means and projections'),
      tail: rec.buffer(chunk * 2 * n, 'excluded losses and centred squares'),
      out: rec.buffer(chunk * 2, 'excluded loss and centred norm sums'),
    };
  }

  /** The per-residue sums of runs c0 … c0 + runs − 1 (after their forward and τ). */
  sums(c0: number, runs: number): Entry[] {
    const key = `${c0}:${runs}`;
    let e = this.sumEntries.get(key);
    if (!e) {
      const u = this.rec.quad([this.n, this.C, this.p, c0], 'progress');
      e = [this.rec.dispatch(residueSumsKernel(), 'progress: per-residue sums', [this.logits, this.hyper, this.bufs.csr, this.bufs.sums, u], grid(this.p * this.C, runs))];
      this.sumEntries.set(key, e);
    }
    return e;
  }

  /** What the first read brings back for the range: its runs' per-residue sums. */
  region(runs: number): ReadRegion {
    return { buffer: this.bufs.sums, offset: 0, length: runs * this.p * this.C };
  }

  /**
   * The measures of runs `mine` (of the range from c0) from their sums and key frequencies (from the embedding's power on the device: weight-readout.ts): the host's
   * first half, the projections written back, the device's tail, one small read, the second half.
   */
  async finish(c0: number, mine: number[], sums: Float32Array, keyFreqsOf: (i: number) => number[], run: (entries: Entry[]) => void, read: (regions: ReadRegion[]) => Promise<Float32Array[]>): Promise<Map<number, ProgressMeasures>> {
    const { p, C, n } = this;
    const k = mine[mine.length - 1] - c0 + 1;
    const per = C + p * C;
    const mp = new Float32Array(k * per);
    const halves = new Map<number, { half: ReturnType<typeof progressFirstHalf>; keyFreqs: number[] }>();
    const hostStarted = performance.now();
    for (const i of mine) {
      const s = i - c0;
      const ds = this.datasets[i];
      let plan = this.plans.get(i);
      if (!plan) this.plans.set(i, (plan = progressPlan(this.structure, C, ds.inputs, ds.labels, ds.trainIndices, ds.testIndices)));
      const keyFreqs = keyFreqsOf(i);
      const half = progressFirstHalf(plan, C, sums.subarray(s * p * C, (s + 1) * p * C), keyFreqs);
      mp.set(half.f.mean, s * per);
      mp.set(half.proj, s * per + C);
      halves.set(i, { half, keyFreqs });
    }
    evalCounters.hostMs += performance.now() - hostStarted; // host work of an evaluation, as measure()'s is
    this.rec.device.queue.writeBuffer(this.bufs.mp, 0, mp);
    let tail = this.tailEntries.get(`${c0}:${k}`);
    if (!tail) {
      const u = this.rec.quad([n, C, p, c0], 'progress tail');
      tail = [
        this.rec.dispatch(tailKernel(), 'progress: excluded losses and centred squares', [this.logits, this.hyper, this.bufs.meta, this.split, this.bufs.mp, this.bufs.tail, u], grid(n, k)),
        this.rec.colsum('progress: Σ excluded', { rows: n, cols: 1, xOff: 0, xRun: 2 * n, xRs: 1, oOff: 0, oRun: 2 }, this.bufs.tail, this.bufs.out, k),
        this.rec.colsum('progress: Σ centred squares', { rows: n, cols: 1, xOff: n, xRun: 2 * n, xRs: 1, oOff: 1, oRun: 2 }, this.bufs.tail, this.bufs.out, k),
      ];
      this.tailEntries.set(`${c0}:${k}`, tail);
    }
    run(tail);
    const [out] = await read([{ buffer: this.bufs.out, offset: 0, length: k * 2 }]);
    countRead(out);
    const measures = new Map<number, ProgressMeasures>();
    const secondStarted = performance.now();
    for (const [i, { half, keyFreqs }] of halves) measures.set(i, progressSecondHalf(half, keyFreqs, out[(i - c0) * 2], out[(i - c0) * 2 + 1]));
    evalCounters.hostMs += performance.now() - secondStarted;
    return measures;
  }
}
