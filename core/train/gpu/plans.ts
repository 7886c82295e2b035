/// <reference types="@webgpu/types" />
import type { ProbeName } from '../../models/config.js';
import { MM, crossEntropyKernel, evalStatsKernel } from './kernels.js';
import { mixBackKernel, mixBackMeanKernel, mixForwardKernel } from './mix-kernels.js';
import { penaltyMatrixKernel } from './penalty-kernels.js';
import { TENSOR_NORMS } from './update-kernels.js';
import { attnCombineKernel, attnPrepKernel, mlpGatherKernel, mlpScatterKernel, prepLayout, type TransformerDims } from './model-kernels.js';
import { attnBackScoresKernel, attnBackTablesKernel, attnBackTokensKernel, queryBackKernel } from './attention-back-kernels.js';
import { grid, type Dispatch, type Entry, type Recorder } from './program.js';

/**
 * The dispatch lists of the WGSL engine (docs/backends.md, "The WGSL engine"): the forward pass
 * of both models over a batch of examples (training batch or every pair), the loss, the backward
 * pass into the flat gradient buffer, and the evaluation's extras (per-example numbers, the
 * probes' covariances, Σθ² per tensor). The algebra is the fused host steps'
 * (host-transformer.ts, host-mlp.ts); where a product below is commented `x·Wᵀ`, the transpose is
 * a stride, not a copy.
 */
export interface ModelLayout {
  arch: 'transformer' | 'mlp';
  vocab: number;
  classes: number;
  order: number;
  eq: number;
  d: number;
  heads: number;
  h: number;
  names: string[];
  shapes: Record<string, number[]>;
  /** Word offset of each tensor within one run's parameters, and the words a run. */
  off: Record<string, number>;
  P: number;
}

export function layoutOf(arch: 'transformer' | 'mlp', shapes: Record<string, number[]>, m: { vocab: number; classes: number; order: number; eq: number; d: number; heads: number; h: number }): ModelLayout {
  const names = Object.keys(shapes);
  const off: Record<string, number> = {};
  let at = 0;
  for (const n of names) {
    off[n] = at;
    at += shapes[n].reduce((a, b) => a * b, 1);
  }
  return { arch, ...m, names, shapes, off, P: at };
}

export function dimsOf(l: ModelLayout): TransformerDims {
  return { vocab: l.vocab, d: l.d, heads: l.heads, eq: l.eq, offE: l.off.embed, offPos: l.off.pos, offWQ: l.off.W_Q };
}

/** Activations of `runs` runs over `n` examples (forward; with `backward` also the gradients' work space). */
export interface Activations {
  runs: number;
  n: number;
  kv?: GPUBuffer;
  prep?: GPUBuffer;
  attn?: GPUBuffer;
  w?: GPUBuffer;
  mid?: GPUBuffer;
  tables?: GPUBuffer;
  hidden: GPUBuffer;
  final: GPUBuffer;
  rep?: GPUBuffer;
  mu?: GPUBuffer;
  logits: GPUBuffer;
  loss: GPUBuffer;
  back?: Record<string, GPUBuffer>;
}

export function activations(rec: Recorder, l: ModelLayout, runs: number, n: number, o: { backward: boolean; mix: boolean; penalty?: boolean }): Activations {
  const { d, h, heads, vocab: V, classes: C } = l;
  const b = (words: number, label: string): GPUBuffer => rec.buffer(runs * words, label);
  const a: Activations = { runs, n, hidden: b(n * h, 'hidden'), final: b(n * d, 'final'), logits: b(n * C, 'logits'), loss: b(n, 'loss') };
  if (l.arch === 'transformer') {
    Object.assign(a, { kv: b((V + 3) * 2 * d, 'kv'), prep: b(prepLayout(dimsOf(l)).size, 'prep'), attn: b(n * d, 'attn'), w: b(n * heads * 3, 'w'), mid: b(n * d, 'mid') });
  } else a.tables = b(V * 2 * h, 'tables');
  if (o.mix) Object.assign(a, { rep: b(n * d, 'rep'), mu: b(d, 'mu') });
  if (o.backward) {
    const back: Record<string, GPUBuffer> = { dFinal: b(n * d, 'dFinal'), dHidden: b(n * h, 'dHidden') };
    if (o.mix) Object.assign(back, { dRep: b(n * d, 'dRep'), dTmp: b(n * d, 'dTmp'), dmu: b(d, 'dmu') });
    if (o.penalty) Object.assign(back, { penMu: b(d, 'penalty μ'), penM: b(d * d, 'penalty C, then M') });
    if (l.arch === 'transformer') {
      Object.assign(back, { dMid: b(n * d, 'dMid'), dAttn: b(n * d, 'dAttn'), ds: b(n * heads * 3, 'ds'), dtab: b((V + 1) * 2 * d, 'dtab'), dst: b((V + 1) * 2 * heads, 'dst'), dKV: b((V + 3) * 2 * d, 'dKV'), dq: b(2 * d, 'dq') });
    } else back.dT = b(V * 2 * h, 'dT');
    a.back = back;
  }
  return a;
}

/** Where a forward pass reads: parameters of runs starting at word pBase, tokens with a per-run stride. */
export interface Inputs {
  params: GPUBuffer;
  pBase: number;
  tok: GPUBuffer;
  tokRun: number;
  /** Per-run constants (kernels.ts); hyperOff = first run · 8. */
  hyper: GPUBuffer;
  /** The orthogonal mix: Q per slot and run ([slots, S, d, d]) when the forward mixes. */
  mixQ?: { buffer: GPUBuffer; slots: number; groupRuns: number };
  spare: GPUBuffer;
}

/** The forward pass: logits into a.logits; returns the entries (the mix's per slot). */
export function forwardEntries(rec: Recorder, l: ModelLayout, a: Activations, x: Inputs): Entry[] {
  const { d, h, vocab: V, classes: C, off, P } = l;
  const { runs: R, n } = a;
  const pb = x.pBase;
  const u = rec.quad([n, x.tokRun, pb, P], 'model');
  const out: Entry[] = [];
  if (l.arch === 'transformer') {
    const t = dimsOf(l);
    out.push(rec.matmul('E_ext·[W_K|W_V]', { M: V + 3, N: d, K: d, J: 2, aOff: pb + off.embed, aRun: P, aRs: d, aCs: 1, bOff: pb + off.W_K, bRun: P, bSub: d * d, bRs: d, bCs: 1, cRun: (V + 3) * 2 * d, cSub: d, cRs: 2 * d }, x.params, x.params, a.kv!, R, null, null, x.spare));
    out.push(rec.dispatch(attnPrepKernel(t), 'attention prep', [x.params, a.kv!, a.prep!, u], [1, 1, R]));
    out.push(rec.dispatch(attnCombineKernel(t), 'attention', [x.tok, a.kv!, a.prep!, a.attn!, a.w!, u], grid(n * d, R)));
    out.push(rec.matmul('mid = r2 + attn·W_O', { M: n, N: d, K: d, aRun: n * d, aRs: d, aCs: 1, bOff: pb + off.W_O, bRun: P, bRs: d, bCs: 1, cRun: n * d, cRs: d, xOff: prepLayout(t).r2, xRun: prepLayout(t).size, flags: MM.bias }, a.attn!, x.params, a.mid!, R, a.prep!, null, x.spare));
    out.push(rec.matmul('hidden = relu(mid·W_in + b_in)', { M: n, N: h, K: d, aRun: n * d, aRs: d, aCs: 1, bOff: pb + off.W_in, bRun: P, bRs: h, bCs: 1, cRun: n * h, cRs: h, xOff: pb + off.b_in, xRun: P, flags: MM.bias | MM.relu }, a.mid!, x.params, a.hidden, R, x.params, null, x.spare));
    out.push(rec.matmul('final = mid + hidden·W_out + b_out', { M: n, N: d, K: h, aRun: n * h, aRs: h, aCs: 1, bOff: pb + off.W_out, bRun: P, bRs: d, bCs: 1, cRun: n * d, cRs: d, xOff: pb + off.b_out, xRun: P, rRun: n * d, rRs: d, flags: MM.bias | MM.residual }, a.hidden, x.params, a.final, R, x.params, a.mid!, x.spare));
  } else {
    out.push(rec.matmul('E·[W_in_a|W_in_b]', { M: V, N: h, K: d, J: 2, aOff: pb + off.embed, aRun: P, aRs: d, aCs: 1, bOff: pb + off.W_in, bRun: P, bSub: d * h, bRs: h, bCs: 1, cRun: V * 2 * h, cSub: h, cRs: 2 * h }, x.params, x.params, a.tables!, R, null, null, x.spare));
    out.push(rec.dispatch(mlpGatherKernel(V, h, off.b_in), 'hidden = relu(T_a + T_b + b_in)', [x.tok, a.tables!, x.params, a.hidden, u], grid(n * h, R)));
    out.push(rec.matmul('rep = hidden·W_out + b_out', { M: n, N: d, K: h, aRun: n * h, aRs: h, aCs: 1, bOff: pb + off.W_out, bRun: P, bRs: d, bCs: 1, cRun: n * d, cRs: d, xOff: pb + off.b_out, xRun: P, flags: MM.bias }, a.hidden, x.params, a.final, R, x.params, null, x.spare));
  }
  let rep = a.final;
  if (x.mixQ && a.rep && a.mu) {
    const q = x.mixQ;
    out.push(rec.colsum('μ', { rows: n, cols: d, xOff: 0, xRun: n * d, xRs: d, oOff: 0, oRun: d, alpha: 1 / n }, a.final, a.mu, R));
    out.push(Array.from({ length: q.slots }, (_, slot) => rec.matmul('(F − μ)·Q', { M: n, N: d, K: d, aRun: n * d, aRs: d, aCs: 1, bOff: slot * q.groupRuns * d * d, bRun: d * d, bRs: d, bCs: 1, cRun: n * d, cRs: d, xRun: d, flags: MM.centreACol }, a.final, q.buffer, a.rep!, R, a.mu!, null, x.spare)));
    out.push(rec.dispatch(mixForwardKernel(d), 'mix', [a.final, a.mu, x.hyper, a.rep, rec.quad([n], 'mix')], grid(n * d, R)));
    rep = a.rep;
  }
  out.push(rec.matmul('logits = rep·W_U', { M: n, N: C, K: d, aRun: n * d, aRs: d, aCs: 1, bOff: pb + off.W_U, bRun: P, bRs: C, bCs: 1, cRun: n * C, cRs: C }, rep, x.params, a.logits, R, null, null, x.spare));
  return out;
}

/** The training loss per example and dL/dlogits in place of the logits. */
export function lossEntry(rec: Recorder, l: ModelLayout, a: Activations, labels: GPUBuffer, hyper: GPUBuffer): Dispatch {
  return rec.dispatch(crossEntropyKernel(l.classes), 'softmax cross-entropy', [a.logits, a.loss, labels, hyper, rec.quad([a.n, a.n, 0], 'loss')], grid(a.n, a.runs));
}

/** The backward pass of the training batch into `grads` (every run's words written; none accumulated across steps). */
export function backwardEntries(rec: Recorder, l: ModelLayout, a: Activations, x: Inputs & { grads: GPUBuffer; csr: GPUBuffer }): Entry[] {
  const { d, h, heads, vocab: V, classes: C, off, P } = l;
  const { runs: R, n } = a;
  const g = x.grads;
  const k = a.back!;
  const out: Entry[] = [];
  const mixing = Boolean(x.mixQ && a.rep);
  const rep = mixing ? a.rep! : a.final;
  const dOut = mixing ? k.dRep : k.dFinal;
  out.push(rec.matmul('gW_U = repᵀ·dlogits', { M: d, N: C, K: n, aRun: n * d, aRs: 1, aCs: d, bRun: n * C, bRs: C, bCs: 1, cOff: off.W_U, cRun: P, cRs: C }, rep, a.logits, g, R, null, null, x.spare));
  out.push(rec.matmul('drep = dlogits·W_Uᵀ', { M: n, N: d, K: C, aRun: n * C, aRs: C, aCs: 1, bOff: off.W_U, bRun: P, bRs: 1, bCs: C, cRun: n * d, cRs: d }, a.logits, x.params, dOut, R, null, null, x.spare));
  if (mixing) {
    const q = x.mixQ!;
    out.push(Array.from({ length: q.slots }, (_, slot) => rec.matmul('drep·Qᵀ', { M: n, N: d, K: d, aRun: n * d, aRs: d, aCs: 1, bOff: slot * q.groupRuns * d * d, bRun: d * d, bRs: 1, bCs: d, cRun: n * d, cRs: d }, k.dRep, q.buffer, k.dTmp, R, null, null, x.spare)));
    out.push(rec.dispatch(mixBackKernel(d), 'mix backward', [k.dRep, x.hyper, k.dTmp, k.dFinal, rec.quad([n], 'mix')], grid(n * d, R)));
    out.push(rec.colsum('dμ', { rows: n, cols: d, xOff: 0, xRun: n * d, xRs: d, oOff: 0, oRun: d }, k.dTmp, k.dmu, R));
    out.push(rec.dispatch(mixBackMeanKernel(d), 'mix backward (mean)', [k.dmu, k.dFinal, rec.quad([n], 'mix')], grid(n * d, R)));
  }
  if (k.penM) {
    // The entropy penalty on F = resid.final (penalty-kernels.ts): dF += (F − μ)·λ(4C/A − 4I/B).
    out.push(rec.colsum('penalty μ', { rows: n, cols: d, xOff: 0, xRun: n * d, xRs: d, oOff: 0, oRun: d, alpha: 1 / n }, a.final, k.penMu, R));
    out.push(rec.matmul('penalty C = (F − μ)ᵀ(F − μ)', { M: d, N: d, K: n, aRun: n * d, aRs: 1, aCs: d, bRun: n * d, bRs: d, bCs: 1, cRun: d * d, cRs: d, xRun: d, flags: MM.centreARow | MM.centreBCol }, a.final, a.final, k.penM, R, k.penMu, null, x.spare));
    out.push(rec.dispatch(penaltyMatrixKernel(d), 'penalty M = λ(4C/A − 4I/B)', [x.hyper, k.penM], [1, 1, R]));
    out.push(rec.matmul('dF += (F − μ)·M', { M: n, N: d, K: d, aRun: n * d, aRs: d, aCs: 1, bRun: d * d, bRs: d, bCs: 1, cRun: n * d, cRs: d, xRun: d, flags: MM.centreACol | MM.accumulate }, a.final, k.penM, k.dFinal, R, k.penMu, null, x.spare));
  }
  out.push(rec.colsum('gb_out', { rows: n, cols: d, xOff: 0, xRun: n * d, xRs: d, oOff: off.b_out, oRun: P }, k.dFinal, g, R));
  out.push(rec.matmul('gW_out = hiddenᵀ·dfinal', { M: h, N: d, K: n, aRun: n * h, aRs: 1, aCs: h, bRun: n * d, bRs: d, bCs: 1, cOff: off.W_out, cRun: P, cRs: d }, a.hidden, k.dFinal, g, R, null, null, x.spare));
  out.push(rec.matmul('dhidden = dfinal·W_outᵀ ⊙ relu′', { M: n, N: h, K: d, aRun: n * d, aRs: d, aCs: 1, bOff: off.W_out, bRun: P, bRs: 1, bCs: d, cRun: n * h, cRs: h, rRun: n * h, rRs: h, flags: MM.mask }, k.dFinal, x.params, k.dHidden, R, null, a.hidden, x.spare));
  out.push(rec.colsum('gb_in', { rows: n, cols: h, xOff: 0, xRun: n * h, xRs: h, oOff: off.b_in, oRun: P }, k.dHidden, g, R));
  const u = rec.quad([n, x.tokRun, 0, P], 'model');
  if (l.arch === 'mlp') {
    out.push(rec.dispatch(mlpScatterKernel(V, h), 'dT: per-token sums', [x.csr, k.dHidden, k.dT, u], grid(V * h, R)));
    out.push(rec.matmul('gW_in = Eᵀ·dT', { M: d, N: h, K: V, J: 2, aOff: off.embed, aRun: P, aRs: 1, aCs: d, bRun: V * 2 * h, bSub: h, bRs: 2 * h, bCs: 1, cOff: off.W_in, cRun: P, cSub: d * h, cRs: h }, x.params, k.dT, g, R, null, null, x.spare));
    out.push(rec.matmul('gE = dT_a·W_in_aᵀ', { M: V, N: d, K: h, aRun: V * 2 * h, aRs: 2 * h, aCs: 1, bOff: off.W_in, bRun: P, bRs: 1, bCs: h, cOff: off.embed, cRun: P, cRs: d }, k.dT, x.params, g, R, null, null, x.spare));
    out.push(rec.matmul('gE += dT_b·W_in_bᵀ', { M: V, N: d, K: h, aOff: h, aRun: V * 2 * h, aRs: 2 * h, aCs: 1, bOff: off.W_in + d * h, bRun: P, bRs: 1, bCs: h, cOff: off.embed, cRun: P, cRs: d, flags: MM.accumulate }, k.dT, x.params, g, R, null, null, x.spare));
    return out;
  }
  const t = dimsOf(l);
  out.push(rec.matmul('gW_in = midᵀ·dhidden', { M: d, N: h, K: n, aRun: n * d, aRs: 1, aCs: d, bRun: n * h, bRs: h, bCs: 1, cOff: off.W_in, cRun: P, cRs: h }, a.mid!, k.dHidden, g, R, null, null, x.spare));
  out.push(rec.matmul('dmid = dfinal + dhidden·W_inᵀ', { M: n, N: d, K: h, aRun: n * h, aRs: h, aCs: 1, bOff: off.W_in, bRun: P, bRs: 1, bCs: h, cRun: n * d, cRs: d, rRun: n * d, rRs: d, flags: MM.residual }, k.dHidden, x.params, k.dMid, R, null, k.dFinal, x.spare));
  out.push(rec.colsum('dr2 (Σ dmid)', { rows: n, cols: d, xOff: 0, xRun: n * d, xRs: d, oOff: d, oRun: 2 * d }, k.dMid, k.dq, R));
  out.push(rec.matmul('gW_O = attnᵀ·dmid', { M: d, N: d, K: n, aRun: n * d, aRs: 1, aCs: d, bRun: n * d, bRs: d, bCs: 1, cOff: off.W_O, cRun: P, cRs: d }, a.attn!, k.dMid, g, R, null, null, x.spare));
  out.push(rec.matmul('dattn = dmid·W_Oᵀ', { M: n, N: d, K: d, aRun: n * d, aRs: d, aCs: 1, bOff: off.W_O, bRun: P, bRs: 1, bCs: d, cRun: n * d, cRs: d }, k.dMid, x.params, k.dAttn, R, null, null, x.spare));
  out.push(rec.dispatch(attnBackScoresKernel(t), 'attention backward: scores', [x.tok, a.kv!, a.prep!, a.w!, k.dAttn, k.ds, u], grid(n * heads, R)));
  out.push(rec.dispatch(attnBackTokensKernel(t), 'attention backward: per-token sums', [x.csr, a.w!, k.ds, k.dAttn, k.dtab, k.dst, u], grid((V + 1) * d, R)));
  out.push(rec.dispatch(attnBackTablesKernel(t), 'attention backward: tables and query', [k.dtab, k.dst, a.prep!, a.kv!, k.dKV, k.dq, u], grid((V + 4) * d, R)));
  out.push(rec.matmul('g[W_K|W_V] = E_extᵀ·dKV', { M: d, N: d, K: V + 3, J: 2, aOff: off.embed, aRun: P, aRs: 1, aCs: d, bRun: (V + 3) * 2 * d, bSub: d, bRs: 2 * d, bCs: 1, cOff: off.W_K, cRun: P, cSub: d * d, cRs: d }, x.params, k.dKV, g, R, null, null, x.spare));
  out.push(rec.matmul('gE_ext = dK·W_Kᵀ', { M: V + 3, N: d, K: d, aRun: (V + 3) * 2 * d, aRs: 2 * d, aCs: 1, bOff: off.W_K, bRun: P, bRs: 1, bCs: d, cOff: off.embed, cRun: P, cRs: d }, k.dKV, x.params, g, R, null, null, x.spare));
  out.push(rec.matmul('gE_ext += dV·W_Vᵀ', { M: V + 3, N: d, K: d, aOff: d, aRun: (V + 3) * 2 * d, aRs: 2 * d, aCs: 1, bOff: off.W_V, bRun: P, bRs: 1, bCs: d, cOff: off.embed, cRun: P, cRs: d, flags: MM.accumulate }, k.dKV, x.params, g, R, null, null, x.spare));
  out.push(rec.dispatch(queryBackKernel(t), 'query backward', [x.params, a.prep!, k.dq, g, u], grid(d * d, R)));
  return out;
}

/** The probes an evaluation measures, with the buffer and layout each is read from. */
export interface ProbeSource {
  name: ProbeName;
  width: number;
  buffer: GPUBuffer;
  xOff: number;
  xRun: number;
  rows: number;
}

/**
 * The evaluation's extras after a forward over every pair: per-example numbers, each probe's mean
 * and covariance (centred in the product's loads), Σθ² per tensor. `attn.out` is measured on
 * mid = r2 + attn·W_O: r2 is one row added to every example, and a covariance is blind to a
 * constant shift.
 */
export function evalEntries(rec: Recorder, l: ModelLayout, a: Activations, x: Inputs & { labels: GPUBuffer; hyperOff: number; stats: GPUBuffer; means: GPUBuffer; covs: GPUBuffer; norms: GPUBuffer; meta: GPUBuffer; probes: ProbeSource[] }): Dispatch[] {
  const { runs: R, n } = a;
  const out: Dispatch[] = [rec.dispatch(evalStatsKernel(l.classes), 'evaluation: per-example numbers', [a.logits, x.stats, x.labels, x.hyper, rec.quad([n, x.hyperOff], 'eval')], grid(n, R))];
  const meanRun = x.probes.reduce((t, p) => t + p.width, 0);
  const covRun = x.probes.reduce((t, p) => t + p.width * p.width, 0);
  let mOff = 0;
  let cOff = 0;
  for (const p of x.probes) {
    out.push(rec.colsum(`mean of ${p.name}`, { rows: p.rows, cols: p.width, xOff: p.xOff, xRun: p.xRun, xRs: p.width, oOff: mOff, oRun: meanRun, alpha: 1 / p.rows }, p.buffer, x.means, R));
    out.push(rec.matmul(`covariance of ${p.name}`, { M: p.width, N: p.width, K: p.rows, aOff: p.xOff, aRun: p.xRun, aRs: 1, aCs: p.width, bOff: p.xOff, bRun: p.xRun, bRs: p.width, bCs: 1, cOff, cRun: covRun, cRs: p.width, xOff: mOff, xRun: meanRun, flags: MM.centreARow | MM.centreBCol, alpha: 1 / (p.rows - 1) }, p.buffer, p.buffer, x.covs, R, x.means, null, x.spare));
    mOff += p.width;
    cOff += p.width * p.width;
  }
  out.push(rec.dispatch(TENSOR_NORMS, 'Σθ² per tensor', [x.params, x.meta, x.norms, rec.quad([l.P, x.pBase, l.names.length], 'norms')], [l.names.length, 1, R]));
  return out;
}
