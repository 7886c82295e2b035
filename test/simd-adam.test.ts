import { describe, expect, it } from 'vitest';
import { loadHostKernels } from '../core/train/host/host-kernels.js';
import { SimdAdam } from '../core/train/host/simd-adam.js';
import type { HostParams } from '../core/models/init.js';
import { Rng } from '../core/rng.js';

/**
 * AdamW in WebAssembly SIMD (core/train/host/simd-adam.ts) against the plain float64 formulation it
 * replaces, written out here: parameters and moments bit-identical over 20 steps, with tensors of
 * odd length (the kernel's padding) and gradients of every magnitude; ‖θ‖² to float64 rounding.
 */
const kernels = await loadHostKernels();
if (kernels instanceof Error) throw kernels;

function randomParams(rng: Rng, sizes: Record<string, number>, scale: number): HostParams {
  const out: HostParams = {};
  for (const [name, n] of Object.entries(sizes)) out[name] = { shape: [n], data: Float32Array.from({ length: n }, () => rng.normal() * scale) };
  return out;
}

function clone(h: HostParams): HostParams {
  return Object.fromEntries(Object.entries(h).map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.data) }]));
}

describe('AdamW in SIMD', () => {
  it('updates parameters and moments bit for bit as the JS loop does, 20 steps', () => {
    const rng = Rng.derive(11, 'adam-test');
    const sizes = { a: 7, b: 64, c: 1, d: 33 };
    const init = { params: randomParams(rng, sizes, 1), m: randomParams(rng, sizes, 0), v: randomParams(rng, sizes, 0) };
    const names = Object.keys(sizes);
    const simd = SimdAdam.create(init, names)!;
    expect(simd).not.toBeNull();
    const ref = { p: clone(init.params), m: clone(init.m), v: clone(init.v) };
    const [lr, beta1, beta2, eps, weightDecay] = [3e-3, 0.9, 0.98, 1e-8, 1];
    for (let t = 1; t <= 20; t++) {
      const grads = randomParams(rng, sizes, 10 ** (t % 7 - 4));
      const stepSize = lr / (1 - beta1 ** t);
      const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
      const decay = 1 - lr * weightDecay;
      let normSq = 0;
      for (const name of names) {
        const [g, p, m, v] = [grads[name].data, ref.p[name].data, ref.m[name].data, ref.v[name].data];
        for (let i = 0; i < p.length; i++) {
          m[i] = beta1 * m[i] + (1 - beta1) * g[i];
          v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
          p[i] = p[i] * decay - (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + eps);
          normSq += p[i] * p[i];
        }
      }
      const got = simd.step(grads, { beta1, beta2, eps, decay, stepSize, sqrtBc2 });
      expect(Math.abs(got - normSq)).toBeLessThanOrEqual(1e-13 * normSq);
      for (const name of names) {
        expect(Array.from(simd.params[name].data), `p.${name} step ${t}`).toEqual(Array.from(ref.p[name].data));
        expect(Array.from(simd.m[name].data), `m.${name}`).toEqual(Array.from(ref.m[name].data));
        expect(Array.from(simd.v[name].data), `v.${name}`).toEqual(Array.from(ref.v[name].data));
      }
    }
  });
});
