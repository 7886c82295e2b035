import { bindings } from './kernels.js';

/**
 * The entropy penalty (interventions.ts) in the WGSL engine. With X the centred representation
 * (F − μ, n × d), C = XᵀX, A = tr C² = ‖C‖²_F and B = tr C, the penalty is λ·(ln A − 2 ln B) and
 * its gradient is
 *
 *   dF = X · λ(4C/A − 4I/B)
 *
 * (d tr(XᵀX XᵀX) = 4·XC·dX, d tr(XᵀX) = 2X·dX; the centring adds nothing, because X·M already
 * has zero column means for any M). So the device needs μ (a column sum), C (one product), this
 * kernel to turn C into M = λ(4C/A − 4I/B) in place, and one accumulating product dF += X·M —
 * four dispatches, only in groups that have a penalised run. λ is the run's hyper[7]; runs
 * without the penalty have λ = 0 and get M = 0, so their gradient is untouched.
 */
export function penaltyMatrixKernel(d: number): string {
  return /* wgsl */ `
${bindings([['hyper', 'r'], ['C', 'rw']])}
var<workgroup> sq: array<f32, 256>;
var<workgroup> tr: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let s = wg.z;
  let base = s * ${d * d}u;
  let lam = hyper[s * 8u + 7u];
  var a = 0.0;
  var b = 0.0;
  for (var k = li; k < ${d * d}u; k += 256u) {
    let c = C[base + k];
    a += c * c;
    if (k % ${d + 1}u == 0u) { b += c; }
  }
  sq[li] = a;
  tr[li] = b;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (li < w) { sq[li] += sq[li + w]; tr[li] += tr[li + w]; }
    workgroupBarrier();
  }
  let A = sq[0];
  let B = tr[0];
  workgroupBarrier();
  for (var k = li; k < ${d * d}u; k += 256u) {
    if (lam == 0.0) { C[base + k] = 0.0; continue; }
    var m = 4.0 * lam * C[base + k] / A;
    if (k % ${d + 1}u == 0u) { m -= 4.0 * lam / B; }
    C[base + k] = m;
  }
}`;
}
