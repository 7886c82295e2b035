import { bindings, FLAT, FLAT_ARGS } from './kernels.js';

/**
 * The orthogonal mix (interventions.ts) in the WGSL engine: its elementwise parts. The products
 * (F − μ)·Q and dRep·Qᵀ and the column sums are the generic kernels (plans.ts).
 */

/** An elementwise kernel over every run's [n, d] rows: `body` sees k (the flat element), s, idx, a (the run's α). */
function perElement(d: number, list: [string, string][], body: string): string {
  return /* wgsl */ `
struct U { n: u32, p0: u32, p1: u32, p2: u32 }
${bindings([...list, ['u', 'U']])}
@compute @workgroup_size(256)
fn main(${FLAT_ARGS}) {
  ${FLAT}
  let s = wg.z;
  if (idx >= u.n * ${d}u) { return; }
  let k = s * u.n * ${d}u + idx;
  ${body}
}`;
}

/**
 * The orthogonal mix on the representation (interventions.ts): with Y = (F − μ)·Q already in
 * `rep`, rep ← μ + (1 − α)(F − μ) + α·Y for runs with α > 0; the others keep F exactly.
 */
export function mixForwardKernel(d: number): string {
  return perElement(d, [['F', 'r'], ['mu', 'r'], ['hyper', 'r'], ['rep', 'rw']], `
  let a = hyper[s * 8u + 4u];
  if (a == 0.0) { rep[k] = F[k]; return; }
  let m = mu[s * ${d}u + idx % ${d}u];
  rep[k] = m + (1.0 - a) * (F[k] - m) + a * rep[k];`);
}

/**
 * The mix's backward, part 1: with T = dRep·Qᵀ in `tmp`: dC = (1 − α)·dRep + α·T into dF, and
 * tmp ← dRep − dC (its column sums are dμ). Runs without the mix: dF = dRep, tmp = 0.
 */
export function mixBackKernel(d: number): string {
  return perElement(d, [['dRep', 'r'], ['hyper', 'r'], ['tmp', 'rw'], ['dF', 'rw']], `
  let a = hyper[s * 8u + 4u];
  if (a == 0.0) { dF[k] = dRep[k]; tmp[k] = 0.0; return; }
  let dc = (1.0 - a) * dRep[k] + a * tmp[k];
  dF[k] = dc;
  tmp[k] = dRep[k] - dc;`);
}

/** The mix's backward, part 2: dF += dμ/n (dμ: the column sums of dRep − dC). */
export function mixBackMeanKernel(d: number): string {
  return perElement(d, [['dmu', 'r'], ['dF', 'rw']], `
  dF[k] += dmu[s * ${d}u + idx % ${d}u] / f32(u.n);`);
}
