/// <reference types="@webgpu/types" />
import type { RunConfig } from '../../schema/run-config.js';
import { cyclicStructure, residueTask, type CyclicStructure } from '../../spectra/residues.js';
import type { WeightSummary } from '../eval/record.js';
import { bindings } from './kernels.js';
import { GpuTridiagonal } from './tridiagonal.js';
import type { Entry, Recorder } from './program.js';
import type { ReadRegion } from './device.js';
import type { ModelLayout } from './plans.js';

/**
 * What an evaluation measures of the weight matrices, computed where they live (issue 36: the
 * matrices were 363 KB of a reference run-evaluation's read): each matrix's ESD as a tridiagonal
 * (its Gram WᵀW/n by the engine's matmul, then gpu/tridiagonal.ts), the entries' variance at
 * spectrum evaluations (the trap threshold), and for cyclic tasks the power per frequency of
 * the embedding's group-token rows (Fourier alignment), of the same rows in the residue
 * structure's order (the key frequencies) and of the neuron-to-logit map W_out·W_U over the
 * classes (its Gini). The host finishes with the same spectra/ functions every engine uses.
 *
 * S5's irrep alignment still reads the embedding's rows (120 × d) back: its projections are not
 * on the device yet.
 */

/**
 * Power per frequency f = 1…⌊m/2⌋ of X's rows taken in the order `element` (m of them) over Z/mZ,
 * summed over X's columns; centred over those rows or not; the self-mirrored f = m/2 halved
 * (spectra/fourier.ts frequencyPower, spectra/progress.ts neuronLogitGini). One workgroup per
 * frequency and run.
 */
const CYCLIC_POWER = /* wgsl */ `
struct U { xOff: u32, xRun: u32, xRs: u32, xCs: u32, m: u32, cols: u32, centred: u32, outOff: u32, outRun: u32, eOff: u32, p0: u32, p1: u32 }
${bindings([['X', 'r'], ['element', 'r u32'], ['trig', 'r'], ['out', 'rw'], ['u', 'U']])}
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let f = wg.x + 1u;
  let s = wg.z;
  let base = u.xOff + s * u.xRun;
  var acc = 0.0;
  for (var c = t; c < u.cols; c += 256u) {
    var mean = 0.0;
    if (u.centred == 1u) {
      for (var k = 0u; k < u.m; k++) { mean += X[base + element[u.eOff + k] * u.xRs + c * u.xCs]; }
      mean /= f32(u.m);
    }
    var re = 0.0;
    var im = 0.0;
    for (var k = 0u; k < u.m; k++) {
      let x = X[base + element[u.eOff + k] * u.xRs + c * u.xCs] - mean;
      let a = (f * k) % u.m;
      re += x * trig[a];
      im += x * trig[u.m + a];
    }
    acc += re * re + im * im;
  }
  red[t] = acc;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (t < half) { red[t] += red[t + half]; }
    workgroupBarrier();
  }
  if (t == 0u) { out[u.outOff + s * u.outRun + f - 1u] = select(red[0], 0.5 * red[0], 2u * f == u.m); }
}`;

/** Each matrix's entries' variance (population form), one workgroup per matrix and run: out[s, j]. */
const ENTRY_VARIANCE = /* wgsl */ `
struct U { P: u32, pBase: u32, count: u32, p0: u32 }
${bindings([['params', 'r'], ['table', 'r u32'], ['out', 'rw'], ['u', 'U']])}
var<workgroup> red: array<f32, 256>;
fn total(x: f32, t: u32) -> f32 {
  red[t] = x;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (t < half) { red[t] += red[t + half]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let j = wg.x;
  let s = wg.z;
  let at = u.pBase + s * u.P + table[2u * j];
  let n = table[2u * j + 1u];
  var a = 0.0;
  for (var i = t; i < n; i += 256u) { a += params[at + i]; }
  let mean = total(a, t) / f32(n);
  var b = 0.0;
  for (var i = t; i < n; i += 256u) { let x = params[at + i] - mean; b += x * x; }
  let v = total(b, t) / f32(n);
  if (t == 0u) { out[s * u.count + j] = v; }
}`;

interface Matrix {
  name: string;
  rows: number;
  cols: number;
  /** The ESD's size: min(rows, cols). */
  m: number;
  gramOff: number;
}

export class GpuWeights {
  private readonly matrices: Matrix[];
  private readonly gramRun: number;
  private readonly grams: GPUBuffer;
  /** Tridiagonals of the ESDs read every evaluation (embed, W_U), and of every 2-D matrix. */
  private readonly everyEval: GpuTridiagonal;
  private readonly all: GpuTridiagonal;
  private readonly cyclic: { structure: CyclicStructure; order: number; W: number; Wk: number; buffers: Record<string, GPUBuffer>; residue: boolean } | null;
  private readonly variance: { table: GPUBuffer; out: GPUBuffer };
  private readonly entries = new Map<string, Entry[]>();

  constructor(
    private readonly rec: Recorder,
    private readonly l: ModelLayout,
    private readonly params: GPUBuffer,
    config: RunConfig,
    task: { cyclic: boolean; order: number },
    chunk: number,
    solve?: (diag: ArrayLike<number>, off: ArrayLike<number>) => Float64Array,
  ) {
    const order = task.order;
    let at = 0;
    this.matrices = l.names
      .filter((name) => l.shapes[name].length === 2)
      .map((name) => {
        const [rows, cols] = l.shapes[name];
        const m = Math.min(rows, cols);
        const gramOff = at;
        at += m * m;
        return { name, rows, cols, m, gramOff };
      });
    this.gramRun = at;
    this.grams = rec.buffer(chunk * at, 'weight Gram matrices');
    const layoutOf = (list: Matrix[]) => list.map((x) => ({ n: x.m, offset: x.gramOff }));
    this.everyEval = new GpuTridiagonal(rec, this.grams, layoutOf(this.matrices.filter((x) => x.name === 'embed' || x.name === 'W_U')), at, chunk, solve);
    this.all = new GpuTridiagonal(rec, this.grams, layoutOf(this.matrices), at, chunk, solve);
    const table = Uint32Array.from(this.matrices.flatMap((x) => [l.off[x.name], x.rows * x.cols]));
    this.variance = { table: rec.buffer(table.length, 'weight matrices', table), out: rec.buffer(chunk * this.matrices.length, 'weight entry variances') };
    const residue = residueTask(config.task);
    if (!task.cyclic) {
      this.cyclic = null;
      return;
    }
    // Cyclic tasks: the natural order of the group tokens (Fourier alignment), and for residue
    // tasks the structure's order (key frequencies, neuron-to-logit map over the classes).
    const structure: CyclicStructure = residue ? cyclicStructure(residue, order) : { modulus: order, element: Int32Array.from({ length: order }, (_, k) => k), residue: () => -1 };
    const natural = Int32Array.from({ length: order }, (_, k) => k);
    const trig = (m: number) => Float32Array.from({ length: 2 * m }, (_, i) => (i < m ? Math.cos((2 * Math.PI * i) / m) : Math.sin((2 * Math.PI * (i - m)) / m)));
    const element = new Uint32Array(order + structure.modulus);
    element.set(natural);
    element.set(structure.element, order);
    const W = Math.floor(order / 2);
    const Wk = Math.floor(structure.modulus / 2);
    this.cyclic = {
      structure,
      order,
      W,
      Wk,
      residue: residue !== null,
      buffers: {
        element: rec.buffer(element.length, 'cyclic orders', element),
        trigNatural: rec.buffer(2 * order, 'cosines and sines over Z/pZ', trig(order)),
        trigStructure: rec.buffer(2 * structure.modulus, 'cosines and sines over the residues', trig(structure.modulus)),
        power: rec.buffer(chunk * (W + 2 * Wk), 'powers per frequency'),
        mT: rec.buffer(chunk * l.classes * (l.shapes.W_out?.[0] ?? 1), 'neuron-to-logit map, transposed'),
      },
    };
  }

  /** Whether the model has the neuron-to-logit map W_out·W_U (spectra/progress.ts neuronLogitGini). */
  private hasNeuronMap(): boolean {
    return this.l.shapes.W_out?.length === 2 && this.l.shapes.W_U?.length === 2;
  }

  /** The dispatches for runs c0 … c0 + runs − 1 (recorded once per range and kind). */
  entriesFor(c0: number, runs: number, withSpectra: boolean): Entry[] {
    const key = `${c0}:${runs}:${withSpectra}`;
    let e = this.entries.get(key);
    if (e) return e;
    const { l, rec } = this;
    const pBase = c0 * l.P;
    const list = withSpectra ? this.matrices : this.matrices.filter((x) => x.name === 'embed' || x.name === 'W_U');
    e = list.map((x) => {
      const o = pBase + l.off[x.name];
      // ESD of an n×m matrix: WᵀW / n, a wide one transposed first (spectra/weight-spectrum.ts esd).
      const tall = x.rows >= x.cols;
      const n = tall ? x.rows : x.cols;
      const strides = tall ? { aRs: 1, aCs: x.cols, bRs: x.cols, bCs: 1 } : { aRs: x.cols, aCs: 1, bRs: 1, bCs: x.cols };
      return rec.matmul(`Gram of ${x.name}`, { M: x.m, N: x.m, K: n, aOff: o, aRun: l.P, bOff: o, bRun: l.P, ...strides, cOff: x.gramOff, cRun: this.gramRun, cRs: x.m, alpha: 1 / n }, this.params, this.params, this.grams, runs, null, null, this.params);
    });
    e.push((withSpectra ? this.all : this.everyEval).entry(runs));
    if (withSpectra) e.push(rec.dispatch(ENTRY_VARIANCE, 'weight entry variances', [this.params, this.variance.table, this.variance.out, rec.quad([l.P, pBase, this.matrices.length], 'variances')], [this.matrices.length, 1, runs]));
    const c = this.cyclic;
    if (c) {
      const { buffers: b, W, Wk } = c;
      const outRun = W + 2 * Wk;
      const power = (label: string, x: GPUBuffer, u: number[], trig: GPUBuffer, freqs: number) => {
        const buf = new ArrayBuffer(48);
        new Uint32Array(buf).set(u);
        return rec.dispatch(CYCLIC_POWER, label, [x, b.element, trig, b.power, rec.uniform(buf, label)], [freqs, 1, runs]);
      };
      const embed = pBase + l.off.embed;
      e.push(power('embedding power per frequency', this.params, [embed, l.P, l.d, 1, c.order, l.d, 1, 0, outRun, 0], b.trigNatural, W));
      if (c.residue && Wk > 0) {
        const m = c.structure.modulus;
        e.push(power('key-frequency power', this.params, [embed, l.P, l.d, 1, m, l.d, 1, W, outRun, c.order], b.trigStructure, Wk));
        if (this.hasNeuronMap()) {
          // Mᵀ = (W_out·W_U)ᵀ, C × h: Mᵀ[c, n] = Σ_k W_U[k, c]·W_out[n, k].
          const [h, d] = l.shapes.W_out;
          const C = l.classes;
          e.push(rec.matmul('neuron-to-logit map', { M: C, N: h, K: d, aOff: pBase + l.off.W_U, aRun: l.P, aRs: 1, aCs: C, bOff: pBase + l.off.W_out, bRun: l.P, bRs: 1, bCs: d, cOff: 0, cRun: C * h, cRs: h }, this.params, this.params, b.mT, runs, null, null, this.params));
          e.push(power('neuron-to-logit power', b.mT, [0, C * h, h, 1, m, h, 0, W + Wk, outRun, c.order], b.trigStructure, Wk));
        }
      }
    }
    this.entries.set(key, e);
    return e;
  }

  regions(runs: number, withSpectra: boolean): ReadRegion[] {
    const out = [(withSpectra ? this.all : this.everyEval).region(runs)];
    if (withSpectra) out.push({ buffer: this.variance.out, offset: 0, length: runs * this.matrices.length });
    if (this.cyclic) out.push({ buffer: this.cyclic.buffers.power, offset: 0, length: runs * (this.cyclic.W + 2 * this.cyclic.Wk) });
    return out;
  }

  /** Run s's summary (its place in the range) from what regions() read. */
  summary(read: Float32Array[], s: number, withSpectra: boolean): WeightSummary {
    const [tri, ...rest] = read;
    const list = withSpectra ? this.matrices : this.matrices.filter((x) => x.name === 'embed' || x.name === 'W_U');
    const solver = withSpectra ? this.all : this.everyEval;
    const out: WeightSummary = { shapes: {}, esd: {} };
    list.forEach((x, j) => {
      out.shapes[x.name] = [x.rows, x.cols];
      out.esd[x.name] = solver.eigenvalues(tri, s, j).reverse();
    });
    if (withSpectra) {
      const v = rest.shift()!;
      out.variance = Object.fromEntries(this.matrices.map((x, j) => [x.name, v[s * this.matrices.length + j]]));
    }
    const c = this.cyclic;
    if (c) {
      const p = rest.shift()!;
      const at = s * (c.W + 2 * c.Wk);
      out.embedPower = Array.from(p.subarray(at, at + c.W));
      if (c.residue) {
        out.keyPower = Array.from(p.subarray(at + c.W, at + c.W + c.Wk));
        if (this.hasNeuronMap()) out.neuronLogitPower = Array.from(p.subarray(at + c.W + c.Wk, at + c.W + 2 * c.Wk));
      }
    }
    return out;
  }
}
