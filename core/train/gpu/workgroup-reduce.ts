/**
 * Sum and largest value over a workgroup of 256 (every invocation calls it, in uniform control
 * flow; each gets the result), by a tree in workgroup memory: the evaluation's reductions
 * (tridiagonal.ts, weight-kernels.ts) share it.
 */
export const WORKGROUP_REDUCE = /* wgsl */ `
var<workgroup> red: array<f32, 256>;

fn reduceSum(x: f32, t: u32) -> f32 {
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

fn reduceMax(x: f32, t: u32) -> f32 {
  red[t] = x;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (t < half) { red[t] = max(red[t], red[t + half]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;
