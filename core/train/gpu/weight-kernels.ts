import { bindings } from './kernels.js';
import { WORKGROUP_REDUCE } from './workgroup-reduce.js';

/** The kernels of the weight readout (weight-readout.ts says what each measure is for). */

/**
 * Power per frequency f = 1…⌊m/2⌋ of X's rows taken in the order `element` (m of them) over Z/mZ,
 * summed over X's columns; centred over those rows or not; the self-mirrored f = m/2 halved
 * (spectra/fourier.ts frequencyPower, spectra/progress.ts neuronLogitGini). One workgroup per
 * frequency and run.
 */
export const CYCLIC_POWER = /* wgsl */ `
struct U { xOff: u32, xRun: u32, xRs: u32, xCs: u32, m: u32, cols: u32, centred: u32, outOff: u32, outRun: u32, eOff: u32, p0: u32, p1: u32 }
${bindings([['X', 'r'], ['element', 'r u32'], ['trig', 'r'], ['out', 'rw'], ['u', 'U']])}
${WORKGROUP_REDUCE}
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
  let total = reduceSum(acc, t);
  if (t == 0u) { out[u.outOff + s * u.outRun + f - 1u] = select(total, 0.5 * total, 2u * f == u.m); }
}`;

/** Σ of squares of each irrep's block of columns of F̂ = Eᵀ·T (rows × cols), one workgroup per irrep and run: out[s, r]. */
export const BLOCK_SQUARES = /* wgsl */ `
struct U { rows: u32, cols: u32, count: u32, p0: u32 }
${bindings([['hat', 'r'], ['blocks', 'r u32'], ['out', 'rw'], ['u', 'U']])}
${WORKGROUP_REDUCE}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let r = wg.x;
  let s = wg.z;
  let start = blocks[2u * r];
  let width = blocks[2u * r + 1u];
  let base = s * u.rows * u.cols;
  var acc = 0.0;
  for (var i = t; i < u.rows * width; i += 256u) {
    let x = hat[base + (i / width) * u.cols + start + i % width];
    acc += x * x;
  }
  let total = reduceSum(acc, t);
  if (t == 0u) { out[s * u.count + r] = total; }
}`;

/** Each matrix's entries' variance (population form), one workgroup per matrix and run: out[s, j]. */
export const ENTRY_VARIANCE = /* wgsl */ `
struct U { P: u32, pBase: u32, count: u32, p0: u32 }
${bindings([['params', 'r'], ['table', 'r u32'], ['out', 'rw'], ['u', 'U']])}
${WORKGROUP_REDUCE}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let j = wg.x;
  let s = wg.z;
  let at = u.pBase + s * u.P + table[2u * j];
  let n = table[2u * j + 1u];
  var a = 0.0;
  for (var i = t; i < n; i += 256u) { a += params[at + i]; }
  let mean = reduceSum(a, t) / f32(n);
  var b = 0.0;
  for (var i = t; i < n; i += 256u) { let x = params[at + i] - mean; b += x * x; }
  let v = reduceSum(b, t) / f32(n);
  if (t == 0u) { out[s * u.count + j] = v; }
}`;
