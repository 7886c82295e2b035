import { FLAT, FLAT_ARGS } from './kernels.js';

/**
 * The WGSL engine's update kernels (update.ts dispatches them): AdamW of the active runs with
 * partial sums of θ², the per-run ‖θ‖ and the norm-matched rescale, and Σθ² per tensor for
 * evaluations. Sums of squares go through a workgroup tree (256 → 1), then one workgroup a run
 * adds the workgroups' partial sums: float32 throughout, as the tfjs engines.
 */

/**
 * Per-run constants, 8 floats a run: lr, 1 − lr·wd, active (1/0), norm-matched (1/0), mix α, τ.
 * The step's constants (the slot uniform): t, the norm history's index, 1/(1 − β₁ᵗ), √(1 − β₂ᵗ).
 */
const STEP_STRUCT = 'struct U { P: u32, parts: u32, t: u32, hist: u32, H: u32, T: u32, record: u32, W: u32, beta1: f32, beta2: f32, eps: f32, bc1: f32, sqrtBc2: f32, q0: f32, q1: f32, q2: f32 }';
export const STEP_FIELDS = 16;

export function stepUniform(s: { P: number; parts: number; t: number; hist: number; H: number; T: number; record: boolean; W: number; beta1: number; beta2: number; eps: number }): ArrayBuffer {
  const buf = new ArrayBuffer(STEP_FIELDS * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u.set([s.P, s.parts, s.t, s.hist, s.H, s.T, s.record ? 1 : 0, s.W]);
  f.set([s.beta1, s.beta2, s.eps, 1 / (1 - s.beta1 ** s.t), Math.sqrt(1 - s.beta2 ** s.t)], 8);
  return buf;
}

/** Workgroup sum of 256 values in `part`, left in part[0]. */
const TREE = `
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid.x < w) { part[lid.x] += part[lid.x + w]; }
    workgroupBarrier();
  }`;

/** The end of a kernel that leaves its workgroup's Σ of \`sq\` in partial[s·parts + workgroup]. */
const PARTIAL_SUM = `
  part[lid.x] = sq;
  workgroupBarrier();
  ${TREE}
  if (lid.x == 0u) { partial[s * u.parts + wg.y * nwg.x + wg.x] = part[0]; }`;

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
  ${PARTIAL_SUM}
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
  ${PARTIAL_SUM}
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
 * After a step: an active run's parameter change since the last step into the update ring (slot
 * t mod W) where the step is in an evaluation's window (u.record), and the parameters kept for the
 * next step's change (every step, so `prev` is always the previous step's).
 */
export const UPDATE_DELTA = /* wgsl */ `
${STEP_STRUCT}
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read_write> prev: array<f32>;
@group(0) @binding(3) var<storage, read_write> ring: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.P || hyper[s * 8u + 2u] < 0.5) { return; }
  let k = s * u.P + idx;
  let p = P[k];
  if (u.record == 1u) { ring[(s * u.W + u.t % u.W) * u.P + idx] = p - prev[k]; }
  prev[k] = p;
}`;

/** The W × W Gram matrix of each run's update ring (one workgroup per entry and run; slots in ring order). */
export const UPDATE_GRAM = /* wgsl */ `
struct G { P: u32, W: u32, runBase: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> ring: array<f32>;
@group(0) @binding(1) var<storage, read_write> gram: array<f32>;
@group(0) @binding(2) var<uniform> u: G;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let s = wg.z;
  let i = wg.x / u.W;
  let j = wg.x % u.W;
  let a = ((u.runBase + s) * u.W + i) * u.P;
  let b = ((u.runBase + s) * u.W + j) * u.P;
  var acc = 0.0;
  for (var k = lid.x; k < u.P; k += 256u) { acc += ring[a + k] * ring[b + k]; }
  part[lid.x] = acc;
  workgroupBarrier();
  ${TREE}
  if (lid.x == 0u) { gram[(s * u.W + i) * u.W + j] = part[0]; }
}`;
