/**
 * The WGSL engine's generic kernels (docs/backends.md, "The WGSL engine"): a batched, strided
 * matrix product with fused epilogues, column sums, softmax cross-entropy, the evaluation's
 * per-example statistics, AdamW with the per-run ‖θ‖², and the norm-matched rescale. The model's
 * own kernels (attention, token tables) are in model-kernels.ts.
 *
 * Conventions: a dispatch's z is the run index s within the dispatch (a matmul's z also carries a
 * sub-batch j < J: z = s·J + j); 1-D kernels spread their index over x and y (idx = (y·nx + x)·256
 * + local, so counts beyond 65,535 workgroups fit). Offsets are in f32 words. Per-run offsets of
 * parameters already include the first run of the dispatch (evaluation chunks start mid-group).
 */

/** Flags of the matmul epilogue and prologue. */
export const MM = {
  accumulate: 1,
  /** + X[j] (a per-run bias row; X offset moves by xSub per sub-batch). */
  bias: 2,
  /** + R[i, j]. */
  residual: 4,
  relu: 8,
  /** × (R[i, j] > 0): the ReLU's gradient mask. */
  mask: 16,
  /** A[i, k] − X[i] (covariances: A = Xᵀ). */
  centreARow: 32,
  /** B[k, j] − X[j]. */
  centreBCol: 64,
  /** A[i, k] − X[k] (the mix: rows minus their column mean). */
  centreACol: 128,
} as const;

/** Field order of the matmul uniform (u32 words, alpha as f32). */
export const MM_FIELDS = ['M', 'N', 'K', 'J', 'aOff', 'aRun', 'aSub', 'aRs', 'aCs', 'bOff', 'bRun', 'bSub', 'bRs', 'bCs', 'cOff', 'cRun', 'cSub', 'cRs', 'xOff', 'xRun', 'xSub', 'rOff', 'rRun', 'rRs', 'flags', 'alpha', 'p0', 'p1'] as const;
export type MatmulParams = Partial<Record<(typeof MM_FIELDS)[number], number>>;

export function matmulUniform(p: MatmulParams): ArrayBuffer {
  const buf = new ArrayBuffer(MM_FIELDS.length * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  MM_FIELDS.forEach((name, i) => {
    if (name === 'alpha') f[i] = p.alpha ?? 1;
    else u[i] = name === 'J' ? (p.J ?? 1) : (p[name] ?? 0);
  });
  return buf;
}

/** C = α·op(A)·op(B) (+ bias, + residual, + C; ReLU or mask), 64×64 tiles, 4×4 outputs a thread. */
export const MATMUL = /* wgsl */ `
struct U { ${MM_FIELDS.map((n) => `${n}: ${n === 'alpha' ? 'f32' : 'u32'}`).join(', ')} }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<storage, read> X: array<f32>;
@group(0) @binding(4) var<storage, read> R: array<f32>;
@group(0) @binding(5) var<uniform> u: U;
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let s = wg.z / u.J;
  let sub = wg.z % u.J;
  let aBase = u.aOff + s * u.aRun + sub * u.aSub;
  let bBase = u.bOff + s * u.bRun + sub * u.bSub;
  let xBase = u.xOff + s * u.xRun;
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < u.K; k0 += 16u) {
    for (var r = 0u; r < 4u; r++) {
      let e = li + 256u * r;
      let kk = e % 16u;
      let i = e / 16u;
      let gi = row0 + i;
      let gk = k0 + kk;
      var av = 0.0;
      if (gi < u.M && gk < u.K) {
        av = A[aBase + gi * u.aRs + gk * u.aCs];
        if ((u.flags & 32u) != 0u) { av -= X[xBase + gi]; }
        if ((u.flags & 128u) != 0u) { av -= X[xBase + gk]; }
      }
      As[kk * 64u + i] = av;
      let j = e % 64u;
      let kb = e / 64u;
      let gj = col0 + j;
      let gkb = k0 + kb;
      var bv = 0.0;
      if (gj < u.N && gkb < u.K) {
        bv = B[bBase + gkb * u.bRs + gj * u.bCs];
        if ((u.flags & 64u) != 0u) { bv -= X[xBase + gj]; }
      }
      Bs[kb * 64u + j] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let o = kk * 64u + lid.x;
      let b = vec4f(Bs[o], Bs[o + 16u], Bs[o + 32u], Bs[o + 48u]);
      for (var r = 0u; r < 4u; r++) {
        acc[r] += As[kk * 64u + lid.y + 16u * r] * b;
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let gi = row0 + lid.y + 16u * r;
    if (gi >= u.M) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let gj = col0 + lid.x + 16u * c;
      if (gj >= u.N) { continue; }
      var v = u.alpha * acc[r][c];
      let ci = u.cOff + s * u.cRun + sub * u.cSub + gi * u.cRs + gj;
      let ri = u.rOff + s * u.rRun + gi * u.rRs + gj;
      if ((u.flags & 2u) != 0u) { v += X[xBase + sub * u.xSub + gj]; }
      if ((u.flags & 4u) != 0u) { v += R[ri]; }
      if ((u.flags & 1u) != 0u) { v += C[ci]; }
      if ((u.flags & 8u) != 0u) { v = max(v, 0.0); }
      if ((u.flags & 16u) != 0u) { if (R[ri] <= 0.0) { v = 0.0; } }
      C[ci] = v;
    }
  }
}`;

/** The flat index of a 1-D kernel's invocation (see the file comment). */
const FLAT = 'let idx = (wg.y * nwg.x + wg.x) * 256u + lid.x;';
export const FLAT_ARGS = '@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u';
export { FLAT };

/** O[s, j] = α·Σ_i X[s, i, j] (+ O). Workgroups of 64 columns × 4 row strides. */
export const COLSUM = /* wgsl */ `
struct U { rows: u32, cols: u32, xOff: u32, xRun: u32, xRs: u32, oOff: u32, oRun: u32, flags: u32, alpha: f32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let s = wg.z;
  let j = wg.x * 64u + lid.x;
  var acc = 0.0;
  if (j < u.cols) {
    for (var i = lid.y; i < u.rows; i += 4u) { acc += X[u.xOff + s * u.xRun + i * u.xRs + j]; }
  }
  part[lid.y * 64u + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && j < u.cols) {
    let t = (part[lid.x] + part[64u + lid.x]) + (part[128u + lid.x] + part[192u + lid.x]);
    let oi = u.oOff + s * u.oRun + j;
    var v = u.alpha * t;
    if ((u.flags & 1u) != 0u) { v += O[oi]; }
    O[oi] = v;
  }
}`;

/**
 * Softmax cross-entropy of each example's logits / τ_s: the per-example loss, and in place of the
 * logits dL/dlogits = (softmax − onehot) / (n·τ). hyper[s·8 + 5] is τ_s.
 */
export function crossEntropyKernel(classes: number): string {
  return /* wgsl */ `
struct U { n: u32, labelRun: u32, hyperOff: u32, p0: u32 }
@group(0) @binding(0) var<storage, read_write> L: array<f32>;
@group(0) @binding(1) var<storage, read_write> loss: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> hyper: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
const C = ${classes}u;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n) { return; }
  let row = (s * u.n + idx) * C;
  let inv = 1.0 / hyper[u.hyperOff + s * 8u + 5u];
  var mx = -3.4e38;
  for (var j = 0u; j < C; j++) { mx = max(mx, L[row + j] * inv); }
  var sum = 0.0;
  for (var j = 0u; j < C; j++) { sum += exp(L[row + j] * inv - mx); }
  let y = labels[s * u.labelRun + idx];
  loss[s * u.n + idx] = log(sum) - (L[row + y] * inv - mx);
  let scale = inv / (sum * f32(u.n));
  for (var j = 0u; j < C; j++) { L[row + j] = exp(L[row + j] * inv - mx) * scale; }
  L[row + y] -= inv / f32(u.n);
}`;
}

/**
 * The evaluation's per-example numbers from logits / τ over every pair (labels shared by the runs):
 * out[s] = [loss | correct | std across classes | largest softmax | correct − largest other], n each.
 */
export function evalStatsKernel(classes: number): string {
  return /* wgsl */ `
struct U { n: u32, hyperOff: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> hyper: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
const C = ${classes}u;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n) { return; }
  let row = (s * u.n + idx) * C;
  let inv = 1.0 / hyper[u.hyperOff + s * 8u + 5u];
  let y = labels[idx];
  var mx = -3.4e38;
  var arg = 0u;
  var other = -3.4e38;
  var mean = 0.0;
  for (var j = 0u; j < C; j++) {
    let z = L[row + j] * inv;
    if (z > mx) { mx = z; arg = j; }
    if (j != y) { other = max(other, z); }
    mean += z;
  }
  mean /= f32(C);
  var sum = 0.0;
  var sq = 0.0;
  for (var j = 0u; j < C; j++) {
    let z = L[row + j] * inv;
    sum += exp(z - mx);
    sq += (z - mean) * (z - mean);
  }
  let zy = L[row + y] * inv;
  let o = s * 5u * u.n + idx;
  out[o] = log(sum) - (zy - mx);
  out[o + u.n] = select(0.0, 1.0, arg == y);
  out[o + 2u * u.n] = sqrt(sq / f32(C));
  out[o + 3u * u.n] = 1.0 / sum;
  out[o + 4u * u.n] = zy - other;
}`;
}

/**
 * Per-run constants, 8 floats a run: lr, 1 − lr·wd, active (1/0), norm-matched (1/0), mix α, τ.
 * The step's constants (the slot uniform): t, the norm history's index, 1/(1 − β₁ᵗ), √(1 − β₂ᵗ).
 */
const STEP_STRUCT = 'struct U { P: u32, parts: u32, t: u32, hist: u32, H: u32, T: u32, p0: u32, p1: u32, beta1: f32, beta2: f32, eps: f32, bc1: f32, sqrtBc2: f32, q0: f32, q1: f32, q2: f32 }';
export const STEP_FIELDS = 16;

export function stepUniform(s: { P: number; parts: number; t: number; hist: number; H: number; T: number; beta1: number; beta2: number; eps: number }): ArrayBuffer {
  const buf = new ArrayBuffer(STEP_FIELDS * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u.set([s.P, s.parts, s.t, s.hist, s.H, s.T]);
  f.set([s.beta1, s.beta2, s.eps, 1 / (1 - s.beta1 ** s.t), Math.sqrt(1 - s.beta2 ** s.t)], 8);
  return buf;
}

/** Workgroup sum of 256 values in `part`, left in part[0]. */
const TREE = `
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid.x < w) { part[lid.x] += part[lid.x + w]; }
    workgroupBarrier();
  }`;

/** AdamW (PyTorch's order, decoupled decay) of active runs, and partial sums of θ² a workgroup. */
export const ADAMW = /* wgsl */ `
${STEP_STRUCT}
@group(0) @binding(0) var<storage, read_write> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> M: array<f32>;
@group(0) @binding(2) var<storage, read_write> V: array<f32>;
@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read> hyper: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;
@group(0) @binding(6) var<uniform> u: U;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  let on = hyper[s * 8u + 2u] > 0.5;
  var sq = 0.0;
  if (on && idx < u.P) {
    let k = s * u.P + idx;
    let g = G[k];
    let m = u.beta1 * M[k] + (1.0 - u.beta1) * g;
    let v = u.beta2 * V[k] + (1.0 - u.beta2) * g * g;
    let p = P[k] * hyper[s * 8u + 1u] - (hyper[s * 8u] * u.bc1 * m) / (sqrt(v) / u.sqrtBc2 + u.eps);
    M[k] = m;
    V[k] = v;
    P[k] = p;
    sq = p * p;
  }
  part[lid.x] = sq;
  workgroupBarrier();
  ${TREE}
  if (lid.x == 0u) { partial[s * u.parts + wg.y * nwg.x + wg.x] = part[0]; }
}`;

/**
 * ‖θ‖ of each run from the partial sums (one workgroup a run). Pass 0 (after AdamW): a
 * norm-matched run gets its factor target(t)/‖θ‖, every other active run its norm in the history.
 * Pass 1 (after the rescale): the norm-matched runs' norms.
 */
export const NORM_REDUCE = /* wgsl */ `
${STEP_STRUCT}
@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> factor: array<f32>;
@group(0) @binding(4) var<storage, read_write> hist: array<f32>;
@group(0) @binding(5) var<uniform> u: U;
@group(0) @binding(6) var<uniform> pass_: vec4u;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let s = wg.z;
  var acc = 0.0;
  for (var i = lid.x; i < u.parts; i += 256u) { acc += partial[s * u.parts + i]; }
  part[lid.x] = acc;
  workgroupBarrier();
  ${TREE}
  if (lid.x != 0u || hyper[s * 8u + 2u] < 0.5) { return; }
  let norm = sqrt(part[0]);
  let matched = hyper[s * 8u + 3u] > 0.5;
  if (pass_.x == 0u) {
    if (matched) { factor[s] = targets[s * u.T + u.t] / norm; } else { factor[s] = 1.0; hist[s * u.H + u.hist] = norm; }
  } else if (matched) {
    hist[s * u.H + u.hist] = norm;
  }
}`;

/** The norm-matched rescale θ ← θ·factor of active matched runs, with the new partial sums of θ². */
export const NORM_SCALE = /* wgsl */ `
${STEP_STRUCT}
@group(0) @binding(0) var<storage, read_write> P: array<f32>;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> factor: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  var sq = 0.0;
  if (hyper[s * 8u + 2u] > 0.5 && hyper[s * 8u + 3u] > 0.5 && idx < u.P) {
    let k = s * u.P + idx;
    let p = P[k] * factor[s];
    P[k] = p;
    sq = p * p;
  }
  part[lid.x] = sq;
  workgroupBarrier();
  ${TREE}
  if (lid.x == 0u) { partial[s * u.parts + wg.y * nwg.x + wg.x] = part[0]; }
}`;

/** Σθ² of each parameter tensor of each run (one workgroup per tensor and run); meta = [offset, size] a tensor. */
export const TENSOR_NORMS = /* wgsl */ `
struct U { P: u32, pBase: u32, tensors: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> tmeta: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let s = wg.z;
  let t = wg.x;
  let base = u.pBase + s * u.P + tmeta[2u * t];
  var acc = 0.0;
  for (var i = lid.x; i < tmeta[2u * t + 1u]; i += 256u) { let x = P[base + i]; acc += x * x; }
  part[lid.x] = acc;
  workgroupBarrier();
  ${TREE}
  if (lid.x == 0u) { out[s * u.tensors + t] = part[0]; }
}`;

/**
 * The orthogonal mix on the representation (interventions.ts): with Y = (F − μ)·Q already in
 * `rep`, rep ← μ + (1 − α)(F − μ) + α·Y for runs with α > 0; the others keep F exactly.
 */
export function mixForwardKernel(d: number): string {
  return /* wgsl */ `
struct U { n: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> F: array<f32>;
@group(0) @binding(1) var<storage, read> mu: array<f32>;
@group(0) @binding(2) var<storage, read> hyper: array<f32>;
@group(0) @binding(3) var<storage, read_write> rep: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n * ${d}u) { return; }
  let k = s * u.n * ${d}u + idx;
  let a = hyper[s * 8u + 4u];
  if (a == 0.0) { rep[k] = F[k]; return; }
  let m = mu[s * ${d}u + idx % ${d}u];
  rep[k] = m + (1.0 - a) * (F[k] - m) + a * rep[k];
}`;
}

/**
 * The mix's backward, part 1: with T = dRep·Qᵀ in `tmp`: dC = (1 − α)·dRep + α·T into dF, and
 * tmp ← dRep − dC (its column sums are dμ). Runs without the mix: dF = dRep, tmp = 0.
 */
export function mixBackKernel(d: number): string {
  return /* wgsl */ `
struct U { n: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> dRep: array<f32>;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read_write> tmp: array<f32>;
@group(0) @binding(3) var<storage, read_write> dF: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n * ${d}u) { return; }
  let k = s * u.n * ${d}u + idx;
  let a = hyper[s * 8u + 4u];
  if (a == 0.0) { dF[k] = dRep[k]; tmp[k] = 0.0; return; }
  let dc = (1.0 - a) * dRep[k] + a * tmp[k];
  dF[k] = dc;
  tmp[k] = dRep[k] - dc;
}`;
}

/** The mix's backward, part 2: dF += dμ/n (dμ: the column sums of dRep − dC). */
export function mixBackMeanKernel(d: number): string {
  return /* wgsl */ `
struct U { n: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> dmu: array<f32>;
@group(0) @binding(1) var<storage, read_write> dF: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n * ${d}u) { return; }
  dF[s * u.n * ${d}u + idx] += dmu[s * ${d}u + idx % ${d}u] / f32(u.n);
}`;
}
