import { FLAT, FLAT_ARGS } from './kernels.js';
import { consts, EXAMPLE, U, type TransformerDims } from './model-kernels.js';

/**
 * The backward of the Transformer's attention in the WGSL engine (the forward and the file's
 * conventions are in model-kernels.ts): per example the softmax backward, per token the sums of
 * its examples' gradients (walking the token's CSR list), then the key, value and query tables'
 * gradients, as host-attention.ts's attentionBackward computes them.
 */

/** Per example and head: dw_j = dAttn·value_j over the head's channels, and the softmax backward ds_j = w_j(dw_j − Σ w·dw). */
export function attnBackScoresKernel(t: TransformerDims): string {
  return /* wgsl */ `
${consts(t)}
${U}
@group(0) @binding(0) var<storage, read> tok: array<u32>;
@group(0) @binding(1) var<storage, read> KV: array<f32>;
@group(0) @binding(2) var<storage, read> prep: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> dAttn: array<f32>;
@group(0) @binding(5) var<storage, read_write> ds: array<f32>;
@group(0) @binding(6) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n * HEADS) { return; }
  let i = idx / HEADS;
  let hd = idx % HEADS;
  ${EXAMPLE}
  var dw0 = 0.0;
  var dw1 = 0.0;
  var dw2 = 0.0;
  for (var c = hd * DH; c < (hd + 1u) * DH; c++) {
    let da = dAttn[(s * u.n + i) * D + c];
    dw0 += da * (KV[kv + a * D2 + D + c] + KV[kv + V * D2 + D + c]);
    dw1 += da * (KV[kv + b * D2 + D + c] + KV[kv + (V + 1u) * D2 + D + c]);
    dw2 += da * prep[o + V2 + c];
  }
  let ow = ((s * u.n + i) * HEADS + hd) * 3u;
  let wdot = w[ow] * dw0 + w[ow + 1u] * dw1 + w[ow + 2u] * dw2;
  ds[ow] = w[ow] * (dw0 - wdot);
  ds[ow + 1u] = w[ow + 1u] * (dw1 - wdot);
  ds[ow + 2u] = w[ow + 2u] * (dw2 - wdot);
}`;
}

/**
 * Per token (and one more row for `=`'s own key and value, summed over every example) and channel:
 * the value-table gradients dTv0[t] = Σ_{a_i = t} w0·dAttn_i, dTv1 likewise over b, and the
 * score-table gradients Σ ds over the token's examples. csr per run: [offA (V+1) | idxA (n) | offB (V+1) | idxB (n)].
 */
export function attnBackTokensKernel(t: TransformerDims): string {
  return /* wgsl */ `
${consts(t)}
${U}
@group(0) @binding(0) var<storage, read> csr: array<u32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> ds: array<f32>;
@group(0) @binding(3) var<storage, read> dAttn: array<f32>;
@group(0) @binding(4) var<storage, read_write> dtab: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;
@group(0) @binding(6) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= (V + 1u) * D) { return; }
  let r = idx / D;
  let c = idx % D;
  let hd = c / DH;
  let cs = s * (2u * (V + 1u) + 2u * u.n);
  let ex = s * u.n;
  let head = c % DH == 0u;
  let ot = (s * (V + 1u) + r) * D2;
  let os = (s * (V + 1u) + r) * 2u * HEADS;
  if (r < V) {
    var v0 = 0.0;
    var g0 = 0.0;
    for (var k = csr[cs + r]; k < csr[cs + r + 1u]; k++) {
      let e = ex + csr[cs + V + 1u + k];
      v0 += w[(e * HEADS + hd) * 3u] * dAttn[e * D + c];
      if (head) { g0 += ds[(e * HEADS + hd) * 3u]; }
    }
    let cb = cs + V + 1u + u.n;
    var v1 = 0.0;
    var g1 = 0.0;
    for (var k = csr[cb + r]; k < csr[cb + r + 1u]; k++) {
      let e = ex + csr[cb + V + 1u + k];
      v1 += w[(e * HEADS + hd) * 3u + 1u] * dAttn[e * D + c];
      if (head) { g1 += ds[(e * HEADS + hd) * 3u + 1u]; }
    }
    dtab[ot + c] = v0;
    dtab[ot + D + c] = v1;
    if (head) { dst[os + hd] = g0; dst[os + HEADS + hd] = g1; }
  } else {
    var v2 = 0.0;
    var g2 = 0.0;
    for (var i = 0u; i < u.n; i++) {
      let e = ex + i;
      v2 += w[(e * HEADS + hd) * 3u + 2u] * dAttn[e * D + c];
      if (head) { g2 += ds[(e * HEADS + hd) * 3u + 2u]; }
    }
    dtab[ot + c] = v2;
    if (head) { dst[os + hd] = g2; }
  }
}`;
}

/**
 * From the token sums to the key and value tables' gradients dKV [V + 3, 2d] (token rows, then
 * the position rows 0, 1, 2; `=`'s key and value also reach its token row) and the query's dq.
 * Rows 0…V+2 are the table rows; row V+3 computes dq.
 */
export function attnBackTablesKernel(t: TransformerDims): string {
  return /* wgsl */ `
${consts(t)}
${U}
@group(0) @binding(0) var<storage, read> dtab: array<f32>;
@group(0) @binding(1) var<storage, read> dst: array<f32>;
@group(0) @binding(2) var<storage, read> prep: array<f32>;
@group(0) @binding(3) var<storage, read> KV: array<f32>;
@group(0) @binding(4) var<storage, read_write> dKV: array<f32>;
@group(0) @binding(5) var<storage, read_write> dq: array<f32>;
@group(0) @binding(6) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  _ = u.n; // bound like its neighbours' (the layout keeps only bindings a shader uses)
  if (idx >= (V + 4u) * D) { return; }
  let r = idx / D;
  let c = idx % D;
  let hd = c / DH;
  let qc = prep[s * PREP + Q + c];
  let tb = s * (V + 1u) * D2;
  let sb = s * (V + 1u) * 2u * HEADS;
  let g2 = dst[sb + V * 2u * HEADS + hd] * SCALE;
  let dv2 = dtab[tb + V * D2 + c];
  let out = (s * (V + 3u) + r) * D2;
  if (r < V) {
    let g0 = dst[sb + r * 2u * HEADS + hd] * SCALE;
    let g1 = dst[sb + r * 2u * HEADS + HEADS + hd] * SCALE;
    var dk = (g0 + g1) * qc;
    var dv = dtab[tb + r * D2 + c] + dtab[tb + r * D2 + D + c];
    if (r == EQ) { dk += g2 * qc; dv += dv2; }
    dKV[out + c] = dk;
    dKV[out + D + c] = dv;
  } else if (r < V + 2u) {
    let j = r - V;
    var gs = 0.0;
    var vs = 0.0;
    for (var tk = 0u; tk < V; tk++) { gs += dst[sb + tk * 2u * HEADS + j * HEADS + hd]; vs += dtab[tb + tk * D2 + j * D + c]; }
    dKV[out + c] = gs * SCALE * qc;
    dKV[out + D + c] = vs;
  } else if (r == V + 2u) {
    dKV[out + c] = g2 * qc;
    dKV[out + D + c] = dv2;
  } else {
    let kv = s * KVRUN;
    let p0 = KV[kv + V * D2 + c];
    let p1 = KV[kv + (V + 1u) * D2 + c];
    var acc = 0.0;
    for (var tk = 0u; tk < V; tk++) {
      let key = KV[kv + tk * D2 + c];
      acc += dst[sb + tk * 2u * HEADS + hd] * (key + p0) + dst[sb + tk * 2u * HEADS + HEADS + hd] * (key + p1);
    }
    dq[s * D2 + c] = acc * SCALE + g2 * prep[s * PREP + K2 + c];
  }
}`;
}

/**
 * The query's parameters: gW_Q = r2ᵀ·dq, and dR2 = Σ_i dMid_i (already in dq[d…2d)) + dq·W_Qᵀ
 * added to the gradients of E[=] and pos[2] (after the product that wrote the embedding's).
 */
export function queryBackKernel(t: TransformerDims): string {
  return /* wgsl */ `
${consts(t)}
${U}
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> prep: array<f32>;
@group(0) @binding(2) var<storage, read> dq: array<f32>;
@group(0) @binding(3) var<storage, read_write> G: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= D * D) { return; }
  let k = idx / D;
  let c = idx % D;
  let g = s * u.P;
  G[g + OFF_WQ + idx] = prep[s * PREP + R2 + k] * dq[s * D2 + c];
  if (c == 0u) {
    var acc = dq[s * D2 + D + k];
    for (var j = 0u; j < D; j++) { acc += dq[s * D2 + j] * P[u.pBase + s * u.P + OFF_WQ + k * D + j]; }
    G[g + OFF_E + EQ * D + k] += acc;
    G[g + OFF_POS + 2u * D + k] += acc;
  }
}`;
}

