import { FLAT, FLAT_ARGS } from './kernels.js';

/**
 * The WGSL engine's model kernels: the Transformer's attention (the `=` query against positions
 * a, b, `=`) and the MLP's per-token first layer, with the same algebra as the fused host steps
 * (host-transformer.ts, host-attention.ts, host-mlp.ts): keys and values come from per-token
 * tables over the embedding and position rows together (E_ext = [embed; pos], [V + 3, d]), the
 * query is one row per run, so scores are per-token tables; per-example gradients are summed onto
 * tokens by walking each token's examples (a CSR list built on the host per run) instead of
 * atomics, which WGSL has only for integers.
 *
 * Shapes are baked into each shader (one pipeline set per group shape); N (examples) and the
 * per-run strides of tokens come from the uniform, so the same pipelines serve training and
 * evaluation.
 */
export interface TransformerDims {
  vocab: number;
  d: number;
  heads: number;
  eq: number;
  /** Offsets of tensors within one run's parameters. */
  offE: number;
  offPos: number;
  offWQ: number;
}

/** Layout of the per-run `prep` block: r2, q, k2, v2 [d] each, s2 [heads], score tables st0, st1 [vocab·heads]. */
export function prepLayout(t: TransformerDims): { r2: number; q: number; k2: number; v2: number; s2: number; st0: number; st1: number; size: number } {
  const { d, heads, vocab } = t;
  return { r2: 0, q: d, k2: 2 * d, v2: 3 * d, s2: 4 * d, st0: 4 * d + heads, st1: 4 * d + heads + vocab * heads, size: 4 * d + heads + 2 * vocab * heads };
}

export function consts(t: TransformerDims): string {
  const p = prepLayout(t);
  return `const V = ${t.vocab}u; const D = ${t.d}u; const D2 = ${2 * t.d}u; const HEADS = ${t.heads}u; const DH = ${t.d / t.heads}u; const EQ = ${t.eq}u;
const SCALE = ${1 / Math.sqrt(t.d / t.heads)};
const OFF_E = ${t.offE}u; const OFF_POS = ${t.offPos}u; const OFF_WQ = ${t.offWQ}u;
const PREP = ${p.size}u; const R2 = ${p.r2}u; const Q = ${p.q}u; const K2 = ${p.k2}u; const V2 = ${p.v2}u; const S2 = ${p.s2}u; const ST0 = ${p.st0}u; const ST1 = ${p.st1}u;
const KVRUN = ${(t.vocab + 3) * 2 * t.d}u;`;
}

/** Example i's tokens a, b, and run s's offsets into `prep` (o) and the key/value tables (kv). */
export const EXAMPLE = `let a = tok[s * u.tokRun + 2u * i];
  let b = tok[s * u.tokRun + 2u * i + 1u];
  let o = s * PREP;
  let kv = s * KVRUN;`;

/** Common uniform of the model kernels: examples, token stride per run, first parameter word, params per run. */
export const U = 'struct U { n: u32, tokRun: u32, pBase: u32, P: u32 }';

/** Per run (one workgroup): r2 = E[=] + pos[2], q = r2·W_Q, `=`'s key and value, its score, and the score tables of positions 0 and 1. */
export function attnPrepKernel(t: TransformerDims): string {
  return /* wgsl */ `
${consts(t)}
${U}
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> KV: array<f32>;
@group(0) @binding(2) var<storage, read_write> prep: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
var<workgroup> r2: array<f32, D>;
var<workgroup> q: array<f32, D>;
var<workgroup> k2: array<f32, D>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let s = wg.z;
  let p = u.pBase + s * u.P;
  let kv = s * KVRUN;
  let o = s * PREP;
  for (var c = lid.x; c < D; c += 256u) { r2[c] = P[p + OFF_E + EQ * D + c] + P[p + OFF_POS + 2u * D + c]; prep[o + R2 + c] = r2[c]; }
  workgroupBarrier();
  for (var c = lid.x; c < D; c += 256u) {
    var acc = 0.0;
    for (var k = 0u; k < D; k++) { acc += r2[k] * P[p + OFF_WQ + k * D + c]; }
    q[c] = acc;
    prep[o + Q + c] = acc;
    k2[c] = KV[kv + EQ * D2 + c] + KV[kv + (V + 2u) * D2 + c];
    prep[o + K2 + c] = k2[c];
    prep[o + V2 + c] = KV[kv + EQ * D2 + D + c] + KV[kv + (V + 2u) * D2 + D + c];
  }
  workgroupBarrier();
  for (var e = lid.x; e < (2u * V + 1u) * HEADS; e += 256u) {
    if (e < 2u * V * HEADS) {
      let j = e / (V * HEADS);
      let rem = e % (V * HEADS);
      let tok = rem / HEADS;
      let hd = rem % HEADS;
      var acc = 0.0;
      for (var c = hd * DH; c < (hd + 1u) * DH; c++) { acc += (KV[kv + tok * D2 + c] + KV[kv + (V + j) * D2 + c]) * q[c]; }
      prep[o + select(ST0, ST1, j == 1u) + rem] = acc * SCALE;
    } else {
      let hd = e - 2u * V * HEADS;
      var acc = 0.0;
      for (var c = hd * DH; c < (hd + 1u) * DH; c++) { acc += k2[c] * q[c]; }
      prep[o + S2 + hd] = acc * SCALE;
    }
  }
}`;
}

/** Per example and channel: the softmax over the three positions and attn = Σ_j w_j·value_j; w kept for the backward. */
export function attnCombineKernel(t: TransformerDims): string {
  return /* wgsl */ `
${consts(t)}
${U}
@group(0) @binding(0) var<storage, read> tok: array<u32>;
@group(0) @binding(1) var<storage, read> KV: array<f32>;
@group(0) @binding(2) var<storage, read> prep: array<f32>;
@group(0) @binding(3) var<storage, read_write> attn: array<f32>;
@group(0) @binding(4) var<storage, read_write> w: array<f32>;
@group(0) @binding(5) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n * D) { return; }
  let i = idx / D;
  let c = idx % D;
  let hd = c / DH;
  ${EXAMPLE}
  let s0 = prep[o + ST0 + a * HEADS + hd];
  let s1 = prep[o + ST1 + b * HEADS + hd];
  let s2 = prep[o + S2 + hd];
  let mx = max(s0, max(s1, s2));
  let e0 = exp(s0 - mx);
  let e1 = exp(s1 - mx);
  let e2 = exp(s2 - mx);
  let sum = e0 + e1 + e2;
  let w0 = e0 / sum;
  let w1 = e1 / sum;
  let w2 = e2 / sum;
  let tv0 = KV[kv + a * D2 + D + c] + KV[kv + V * D2 + D + c];
  let tv1 = KV[kv + b * D2 + D + c] + KV[kv + (V + 1u) * D2 + D + c];
  attn[(s * u.n + i) * D + c] = w0 * tv0 + w1 * tv1 + w2 * prep[o + V2 + c];
  if (c % DH == 0u) {
    let ow = ((s * u.n + i) * HEADS + hd) * 3u;
    w[ow] = w0;
    w[ow + 1u] = w1;
    w[ow + 2u] = w2;
  }
}`;
}

/** The MLP's first layer: hidden = relu(T_A[a] + T_B[b] + b_in), T = [E·W_in[:d] | E·W_in[d:]] ([V, 2h] per run). */
export function mlpGatherKernel(vocab: number, h: number, offBIn: number): string {
  return /* wgsl */ `
${U}
const H = ${h}u; const V = ${vocab}u; const OFF_BIN = ${offBIn}u;
@group(0) @binding(0) var<storage, read> tok: array<u32>;
@group(0) @binding(1) var<storage, read> T: array<f32>;
@group(0) @binding(2) var<storage, read> P: array<f32>;
@group(0) @binding(3) var<storage, read_write> hidden: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n * H) { return; }
  let i = idx / H;
  let j = idx % H;
  let a = tok[s * u.tokRun + 2u * i];
  let b = tok[s * u.tokRun + 2u * i + 1u];
  let tb = s * V * 2u * H;
  hidden[(s * u.n + i) * H + j] = max(T[tb + a * 2u * H + j] + T[tb + b * 2u * H + H + j] + P[u.pBase + s * u.P + OFF_BIN + j], 0.0);
}`;
}

/** The MLP's backward onto its token tables: dT[t] = [Σ_{a_i = t} dHidden_i | Σ_{b_i = t} dHidden_i]. */
export function mlpScatterKernel(vocab: number, h: number): string {
  return /* wgsl */ `
${U}
const H = ${h}u; const V = ${vocab}u;
@group(0) @binding(0) var<storage, read> csr: array<u32>;
@group(0) @binding(1) var<storage, read> dHidden: array<f32>;
@group(0) @binding(2) var<storage, read_write> dT: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= V * H) { return; }
  let t = idx / H;
  let j = idx % H;
  let cs = s * (2u * (V + 1u) + 2u * u.n);
  let ex = s * u.n;
  var ga = 0.0;
  for (var k = csr[cs + t]; k < csr[cs + t + 1u]; k++) { ga += dHidden[(ex + csr[cs + V + 1u + k]) * H + j]; }
  let cb = cs + V + 1u + u.n;
  var gb = 0.0;
  for (var k = csr[cb + t]; k < csr[cb + t + 1u]; k++) { gb += dHidden[(ex + csr[cb + V + 1u + k]) * H + j]; }
  dT[(s * V + t) * 2u * H + j] = ga;
  dT[(s * V + t) * 2u * H + H + j] = gb;
}`;
}
