/// <reference types="@webgpu/types" />
import type { RunConfig } from '../../schema/run-config.js';
import { cyclicStructure, residueTask, type CyclicStructure } from '../../spectra/residues.js';
import { s5Irreps } from '../../spectra/s5-irreps.js';
import type { WeightSummary } from '../eval/record.js';
import { BLOCK_SQUARES, CYCLIC_POWER, ENTRY_VARIANCE } from './weight-kernels.js';
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
 * S5's tasks take the irrep alignment instead: the group Fourier transform of every embedding
 * column as one product with a 120 × 120 table of the irreps' matrices, then its sum of squares
 * per irrep.
 */
const S5_ORDER = 120;

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
  /** The matrices whose ESDs an evaluation takes, and their tridiagonals: embed and W_U every evaluation, every 2-D matrix at spectrum evaluations. */
  private readonly everyEval: { list: Matrix[]; solver: GpuTridiagonal };
  private readonly all: { list: Matrix[]; solver: GpuTridiagonal };
  private readonly cyclic: { structure: CyclicStructure; order: number; W: number; Wk: number; buffers: Record<string, GPUBuffer>; residue: boolean } | null;
  private readonly variance: { table: GPUBuffer; out: GPUBuffer };
  /** S5: the irreps' matrices as one 120 × 120 table (Σ d_ρ² = 120 columns), F̂ and its sums per irrep. */
  private readonly irreps: { table: GPUBuffer; blocks: GPUBuffer; hat: GPUBuffer; sums: GPUBuffer; count: number; cols: number } | null = null;
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
    const ranked = this.matrices.filter((x) => x.name === 'embed' || x.name === 'W_U');
    this.everyEval = { list: ranked, solver: new GpuTridiagonal(rec, this.grams, layoutOf(ranked), at, chunk, solve) };
    this.all = { list: this.matrices, solver: new GpuTridiagonal(rec, this.grams, layoutOf(this.matrices), at, chunk, solve) };
    const table = Uint32Array.from(this.matrices.flatMap((x) => [l.off[x.name], x.rows * x.cols]));
    this.variance = { table: rec.buffer(table.length, 'weight matrices', table), out: rec.buffer(chunk * this.matrices.length, 'weight entry variances') };
    const residue = residueTask(config.task);
    if (!task.cyclic) {
      this.cyclic = null;
      if (order === S5_ORDER) this.irreps = this.irrepTables(chunk);
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

  /**
   * T[g, c_ρ + i] = ρ(g)_i for every irrep ρ (its d_ρ² entries row-major; c_ρ: the irreps before
   * it): F̂ = Eᵀ·T holds every column's group Fourier transform (spectra/s5-irreps.ts irrepAlignment).
   */
  private irrepTables(chunk: number): NonNullable<GpuWeights['irreps']> {
    const irreps = s5Irreps();
    const cols = irreps.reduce((a, r) => a + r.dim * r.dim, 0);
    const table = new Float32Array(S5_ORDER * cols);
    const blocks = new Uint32Array(2 * irreps.length);
    let at = 0;
    irreps.forEach(({ dim, matrices }, r) => {
      const w = dim * dim;
      for (let g = 0; g < S5_ORDER; g++) for (let i = 0; i < w; i++) table[g * cols + at + i] = matrices[g * w + i];
      blocks.set([at, w], 2 * r);
      at += w;
    });
    const { rec, l } = this;
    return {
      table: rec.buffer(table.length, 'S5 irreps table', table),
      blocks: rec.buffer(blocks.length, 'S5 irrep blocks', blocks),
      hat: rec.buffer(chunk * l.d * cols, 'embedding Fourier transforms over S5'),
      sums: rec.buffer(chunk * irreps.length, 'power sums per irrep'),
      count: irreps.length,
      cols,
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
    const { list, solver } = withSpectra ? this.all : this.everyEval;
    e = list.map((x) => {
      const o = pBase + l.off[x.name];
      // ESD of an n×m matrix: WᵀW / n, a wide one transposed first (spectra/weight-spectrum.ts esd).
      const tall = x.rows >= x.cols;
      const n = tall ? x.rows : x.cols;
      const strides = tall ? { aRs: 1, aCs: x.cols, bRs: x.cols, bCs: 1 } : { aRs: x.cols, aCs: 1, bRs: 1, bCs: x.cols };
      return rec.matmul(`Gram of ${x.name}`, { M: x.m, N: x.m, K: n, aOff: o, aRun: l.P, bOff: o, bRun: l.P, ...strides, cOff: x.gramOff, cRun: this.gramRun, cRs: x.m, alpha: 1 / n }, this.params, this.params, this.grams, runs, null, null, this.params);
    });
    e.push(solver.entry(runs));
    if (withSpectra) e.push(rec.dispatch(ENTRY_VARIANCE, 'weight entry variances', [this.params, this.variance.table, this.variance.out, rec.quad([l.P, pBase, this.matrices.length], 'variances')], [this.matrices.length, 1, runs]));
    const ir = this.irreps;
    if (ir) {
      const cols = ir.cols; // Σ d_ρ² (= 120, Peter–Weyl)
      e.push(rec.matmul('embedding transforms over S5', { M: l.d, N: cols, K: S5_ORDER, aOff: pBase + l.off.embed, aRun: l.P, aRs: 1, aCs: l.d, bOff: 0, bRun: 0, bRs: cols, bCs: 1, cOff: 0, cRun: l.d * cols, cRs: cols }, this.params, ir.table, ir.hat, runs, null, null, this.params));
      e.push(rec.dispatch(BLOCK_SQUARES, 'power sums per irrep', [ir.hat, ir.blocks, ir.sums, rec.quad([l.d, cols, ir.count], 'irreps')], [ir.count, 1, runs]));
    }
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
    const out = [(withSpectra ? this.all : this.everyEval).solver.region(runs)];
    if (withSpectra) out.push({ buffer: this.variance.out, offset: 0, length: runs * this.matrices.length });
    if (this.cyclic) out.push({ buffer: this.cyclic.buffers.power, offset: 0, length: runs * (this.cyclic.W + 2 * this.cyclic.Wk) });
    if (this.irreps) out.push({ buffer: this.irreps.sums, offset: 0, length: runs * this.irreps.count });
    return out;
  }

  /** Run s's summary (its place in the range) from what regions() read. */
  summary(read: Float32Array[], s: number, withSpectra: boolean): WeightSummary {
    const [tri, ...rest] = read;
    const { list, solver } = withSpectra ? this.all : this.everyEval;
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
    if (this.irreps) {
      const n = this.irreps.count;
      out.irrepSums = Array.from(rest.shift()!.subarray(s * n, (s + 1) * n));
    }
    return out;
  }
}
