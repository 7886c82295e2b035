/**
 * The attention of the fused host Transformer step (host-transformer.ts): the `=` query against
 * the three positions a, b, `=`, per example and head, with keys and values read from per-token
 * tables (EK = E·W_K, EV = E·W_V) plus per-position rows (PK = pos·W_K, PV = pos·W_V).
 *
 * The query is the same for every example, so a token's score at position j depends on the token
 * alone: the scores are per-token tables ST_j[token, head] (vocab × d work instead of N × d), and
 * in the backward the score gradients are summed per token before they become key gradients. What
 * stays per example is the softmax over three positions and the weighted sum of values (and their
 * gradients): loops over [N, d], in WebAssembly SIMD where the kernels loaded
 * (host-kernels.ts: attn_combine and its backward), else in JS, each in a function of its own so
 * that V8 optimises it alone.
 */
import type { HostKernelExports } from './host-kernels.js';

/**
 * The buffers the attention reads and writes. With `kernels`, every array is a view into the
 * kernels' memory (allocated by workSpace), where the SIMD loops address them by byte offset.
 */
export interface AttentionSpace {
  kernels: HostKernelExports | null;
  /** Tokens a and b of each example. */
  a: Int32Array;
  b: Int32Array;
  /** Attention weights [N, heads, 3] and their gradients. */
  w: Float32Array;
  dw: Float32Array;
  /** Per-token value rows of positions 0 and 1 ([vocab, d]) and `=`'s value ([d]). */
  tv0: Float32Array;
  tv1: Float32Array;
  v2: Float32Array;
  /** Weighted values [N, d] and their gradient. */
  attn: Float32Array;
  dAttn: Float32Array;
  /** Gradients of tv0, tv1 and v2. */
  dtv0: Float32Array;
  dtv1: Float32Array;
  dv2: Float32Array;
}

/**
 * Float32 buffers of the given lengths and the attention's space, in the kernels' memory (grown
 * once, 16-byte aligned; views stay valid because it never grows again) when the kernels are
 * there and the head width is a multiple of 4, else ordinary arrays.
 */
export function workSpace(
  shape: { n: number; d: number; heads: number; vocab: number },
  a: Int32Array,
  b: Int32Array,
  kernels: HostKernelExports | null,
  extra: Record<string, number>,
): { space: AttentionSpace; buffers: Record<string, Float32Array> } {
  const { n, d, heads, vocab } = shape;
  const sizes: Record<string, number> = { a: n, b: n, w: 3 * n * heads, dw: 3 * n * heads, tv0: vocab * d, tv1: vocab * d, v2: d, attn: n * d, dAttn: n * d, dtv0: vocab * d, dtv1: vocab * d, dv2: d, ...extra };
  const use = kernels !== null && (d / heads) % 4 === 0 && Object.values(extra).every((len) => len % 4 === 0);
  const views: Record<string, Float32Array | Int32Array> = {};
  if (use) {
    const aligned = (bytes: number): number => Math.ceil(bytes / 16) * 16;
    const total = Object.values(sizes).reduce((t, len) => t + aligned(4 * len), 0);
    const mem = kernels.memory;
    if (total > mem.buffer.byteLength) mem.grow(Math.ceil((total - mem.buffer.byteLength) / 65536));
    let offset = 0;
    for (const [name, len] of Object.entries(sizes)) {
      views[name] = name === 'a' || name === 'b' ? new Int32Array(mem.buffer, offset, len) : new Float32Array(mem.buffer, offset, len);
      offset += aligned(4 * len);
    }
  } else for (const [name, len] of Object.entries(sizes)) views[name] = name === 'a' || name === 'b' ? new Int32Array(len) : new Float32Array(len);
  (views.a as Int32Array).set(a);
  (views.b as Int32Array).set(b);
  const f = (k: string): Float32Array => views[k] as Float32Array;
  const space: AttentionSpace = {
    kernels: use ? kernels : null,
    a: views.a as Int32Array,
    b: views.b as Int32Array,
    w: f('w'),
    dw: f('dw'),
    tv0: f('tv0'),
    tv1: f('tv1'),
    v2: f('v2'),
    attn: f('attn'),
    dAttn: f('dAttn'),
    dtv0: f('dtv0'),
    dtv1: f('dtv1'),
    dv2: f('dv2'),
  };
  return { space, buffers: Object.fromEntries(Object.keys(extra).map((k) => [k, f(k)])) };
}

/** Per-token rows of position j: T[t] = table[t] + posRows[j]  ([vocab, d]), into `out` if given. */
function plusRow(table: Float32Array, posRows: Float32Array, j: number, d: number, out: Float32Array = new Float32Array(table.length)): Float32Array {
  for (let k = 0; k < table.length; k++) out[k] = table[k] + posRows[j * d + (k % d)];
  return out;
}

/** Scores of the query against a [vocab, d] key table, per token and head, scaled by 1/√(d/heads). */
function scoreTable(keys: Float32Array, q: Float32Array, d: number, heads: number): Float64Array {
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const vocab = keys.length / d;
  const out = new Float64Array(vocab * heads);
  for (let t = 0; t < vocab; t++) {
    for (let hd = 0; hd < heads; hd++) {
      let s = 0;
      for (let c = hd * dh; c < (hd + 1) * dh; c++) s += keys[t * d + c] * q[c];
      out[t * heads + hd] = s * scale;
    }
  }
  return out;
}

/**
 * Attention weights w [N, heads, 3] and the weighted values attn [N, d]. s2 (per head) and v2 are
 * the score and value of `=`, the same for every example.
 */
export function attentionForward(
  n: number,
  d: number,
  heads: number,
  EK: Float32Array,
  EV: Float32Array,
  PK: Float32Array,
  PV: Float32Array,
  q: Float32Array,
  s2: Float64Array,
  v2: Float32Array,
  sp: AttentionSpace,
): void {
  const dh = d / heads;
  const { a, b, w, attn } = sp;
  const st0 = scoreTable(plusRow(EK, PK, 0, d), q, d, heads);
  const st1 = scoreTable(plusRow(EK, PK, 1, d), q, d, heads);
  const tv0 = plusRow(EV, PV, 0, d, sp.tv0);
  const tv1 = plusRow(EV, PV, 1, d, sp.tv1);
  sp.v2.set(v2);
  for (let i = 0; i < n; i++) {
    const ta = a[i];
    const tb = b[i];
    for (let hd = 0; hd < heads; hd++) {
      const s0 = st0[ta * heads + hd];
      const s1 = st1[tb * heads + hd];
      const max = Math.max(s0, s1, s2[hd]);
      const e0 = Math.exp(s0 - max);
      const e1 = Math.exp(s1 - max);
      const e2 = Math.exp(s2[hd] - max);
      const sum = e0 + e1 + e2;
      const ow = (i * heads + hd) * 3;
      w[ow] = e0 / sum;
      w[ow + 1] = e1 / sum;
      w[ow + 2] = e2 / sum;
    }
  }
  const kern = sp.kernels;
  if (kern) kern.attn_combine(n, d, heads, a.byteOffset, b.byteOffset, w.byteOffset, tv0.byteOffset, tv1.byteOffset, sp.v2.byteOffset, attn.byteOffset);
  else for (let i = 0; i < n; i++) combine(i * d, a[i] * d, b[i] * d, dh, heads, i, w, tv0, tv1, sp.v2, attn);
}

/** attn[i, c] = w0·tv0[a, c] + w1·tv1[b, c] + w2·v2[c], head by head. */
function combine(o: number, ra: number, rb: number, dh: number, heads: number, i: number, w: Float32Array, tv0: Float32Array, tv1: Float32Array, v2: Float32Array, attn: Float32Array): void {
  for (let hd = 0; hd < heads; hd++) {
    const ow = (i * heads + hd) * 3;
    const w0 = w[ow];
    const w1 = w[ow + 1];
    const w2 = w[ow + 2];
    for (let c = hd * dh; c < (hd + 1) * dh; c++) attn[o + c] = w0 * tv0[ra + c] + w1 * tv1[rb + c] + w2 * v2[c];
  }
}

/**
 * Backward of attentionForward: from dAttn, the gradients of the key and value tables (dEK, dEV:
 * token rows; dPK, dPV: position rows, `=`'s key and value in row 2) and of the query (dq). The
 * outputs are accumulated into (callers pass zeros).
 */
export function attentionBackward(
  n: number,
  d: number,
  heads: number,
  EK: Float32Array,
  PK: Float32Array,
  q: Float32Array,
  k2: Float32Array,
  sp: AttentionSpace,
  dEK: Float32Array,
  dEV: Float32Array,
  dPK: Float32Array,
  dPV: Float32Array,
  dq: Float64Array,
): void {
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const vocab = EK.length / d;
  const { a, b, w, dw, tv0, tv1, v2, dAttn, dtv0: dTv0, dtv1: dTv1, dv2: dV2 } = sp;
  // Per example: gradients of the weights (dots of dAttn with each value) and the values'
  // gradients scattered onto their tokens' rows (kernel or JS), then the softmax backward into
  // per-token score gradients.
  dTv0.fill(0);
  dTv1.fill(0);
  dV2.fill(0);
  const kern = sp.kernels;
  if (kern) kern.attn_combine_back(n, d, heads, a.byteOffset, b.byteOffset, w.byteOffset, tv0.byteOffset, tv1.byteOffset, v2.byteOffset, dAttn.byteOffset, dTv0.byteOffset, dTv1.byteOffset, dV2.byteOffset, dw.byteOffset);
  else for (let i = 0; i < n; i++) valueGradients(i * d, a[i] * d, b[i] * d, dh, heads, i, w, tv0, tv1, v2, dAttn, dTv0, dTv1, dV2, dw);
  const dSt0 = new Float64Array(vocab * heads);
  const dSt1 = new Float64Array(vocab * heads);
  const dS2 = new Float64Array(heads);
  for (let i = 0; i < n; i++) {
    const ta = a[i];
    const tb = b[i];
    for (let hd = 0; hd < heads; hd++) {
      const ow = (i * heads + hd) * 3;
      const w0 = w[ow];
      const w1 = w[ow + 1];
      const w2 = w[ow + 2];
      const dw0 = dw[ow];
      const dw1 = dw[ow + 1];
      const dw2 = dw[ow + 2];
      const dot = w0 * dw0 + w1 * dw1 + w2 * dw2;
      dSt0[ta * heads + hd] += w0 * (dw0 - dot);
      dSt1[tb * heads + hd] += w1 * (dw1 - dot);
      dS2[hd] += w2 * (dw2 - dot);
    }
  }
  // Scores → keys and query, per token: s_j[t, hd] = scale · Σ_c (EK[t, c] + PK[j, c]) q[c].
  const tk0 = plusRow(EK, PK, 0, d);
  const tk1 = plusRow(EK, PK, 1, d);
  for (let t = 0; t < vocab; t++) {
    for (let c = 0; c < d; c++) {
      const hd = Math.floor(c / dh);
      const g0 = dSt0[t * heads + hd] * scale;
      const g1 = dSt1[t * heads + hd] * scale;
      const k = t * d + c;
      dEK[k] += g0 * q[c] + g1 * q[c];
      dPK[c] += g0 * q[c];
      dPK[d + c] += g1 * q[c];
      dq[c] += g0 * tk0[k] + g1 * tk1[k];
      // Values: token rows of both positions, and their position rows.
      dEV[k] += dTv0[k] + dTv1[k];
      dPV[c] += dTv0[k];
      dPV[d + c] += dTv1[k];
    }
  }
  for (let c = 0; c < d; c++) {
    const g2 = dS2[Math.floor(c / dh)] * scale;
    dPK[2 * d + c] += g2 * q[c];
    dq[c] += g2 * k2[c];
    dPV[2 * d + c] += dV2[c];
  }
}

/**
 * One example's value gradients: dw[i, hd, j] = Σ_{c ∈ hd} dAttn[c]·value_j[c]; dTv0[a] += w0·dAttn,
 * dTv1[b] += w1·dAttn, dV2 += w2·dAttn.
 */
function valueGradients(
  o: number,
  ra: number,
  rb: number,
  dh: number,
  heads: number,
  i: number,
  w: Float32Array,
  tv0: Float32Array,
  tv1: Float32Array,
  v2: Float32Array,
  dAttn: Float32Array,
  dTv0: Float32Array,
  dTv1: Float32Array,
  dV2: Float32Array,
  dw: Float32Array,
): void {
  for (let hd = 0; hd < heads; hd++) {
    const ow = (i * heads + hd) * 3;
    const w0 = w[ow];
    const w1 = w[ow + 1];
    const w2 = w[ow + 2];
    let dw0 = 0;
    let dw1 = 0;
    let dw2 = 0;
    for (let c = hd * dh; c < (hd + 1) * dh; c++) {
      const da = dAttn[o + c];
      dw0 += da * tv0[ra + c];
      dw1 += da * tv1[rb + c];
      dw2 += da * v2[c];
      dTv0[ra + c] += w0 * da;
      dTv1[rb + c] += w1 * da;
      dV2[c] += w2 * da;
    }
    dw[ow] = dw0;
    dw[ow + 1] = dw1;
    dw[ow + 2] = dw2;
  }
}
