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

/**
 * Binding declarations in order (group 0): `name: 'r'` (read-only storage), `'rw'` (read-write
 * storage), or a uniform's struct type name; storage is f32 unless the entry says `'r u32'`.
 */
export function bindings(list: [string, string][]): string {
  return list
    .map(([name, kind], i) => {
      if (kind === 'r' || kind === 'r u32') return `@group(0) @binding(${i}) var<storage, read> ${name}: array<${kind === 'r' ? 'f32' : 'u32'}>;`;
      if (kind === 'rw') return `@group(0) @binding(${i}) var<storage, read_write> ${name}: array<f32>;`;
      return `@group(0) @binding(${i}) var<uniform> ${name}: ${kind};`;
    })
    .join('\n');
}

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
 * A logit-matched run's temperature (logit-temperature.ts) from a forward over every pair: the mean
 * over examples of the logits' standard deviation across classes, divided by the target scale at
 * the step the parameters belong to (t − 1 of the step uniform) → τ in hyper[·8 + 5]. One
 * workgroup a run; runs without the flag hyper[·8 + 6], or frozen, are left alone.
 */
export function logitScaleKernel(classes: number): string {
  return /* wgsl */ `
struct U { n: u32, runBase: u32, T2: u32, p0: u32 }
struct Step { P: u32, parts: u32, t: u32, rest: u32 }
@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read_write> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
@group(0) @binding(4) var<uniform> step: Step;
const C = ${classes}u;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let s = wg.z;
  let g = u.runBase + s;
  var acc = 0.0;
  for (var i = lid.x; i < u.n; i += 256u) {
    let row = (s * u.n + i) * C;
    var mean = 0.0;
    for (var j = 0u; j < C; j++) { mean += L[row + j]; }
    mean /= f32(C);
    var sq = 0.0;
    for (var j = 0u; j < C; j++) { let z = L[row + j] - mean; sq += z * z; }
    acc += sqrt(sq / f32(C));
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid.x < w) { part[lid.x] += part[lid.x + w]; }
    workgroupBarrier();
  }
  if (lid.x == 0u && hyper[g * 8u + 6u] > 0.5 && hyper[g * 8u + 2u] > 0.5) {
    hyper[g * 8u + 5u] = (part[0] / f32(u.n)) / targets[g * u.T2 + step.t - 1u];
  }
}`;
}
