import type { HostParams } from '../../models/init.js';
import { instantiateHostKernels, type HostKernelExports } from './host-kernels.js';

/**
 * A run's parameters and AdamW moments in one WebAssembly memory, updated by host-kernels.ts's
 * `adamw` (float64 lanes: bit-identical to the trainer's JS loop, test/host-kernels.test.ts),
 * about 0.5 ms of a quick Transformer step in a CPU profile where the JS loop had taken 1–1.5 ms
 * (this workplace's Xeon, `node --cpu-prof`). The trainer's
 * host parameters and moments are views into this memory, which is sized once and never grows
 * (growing would detach the views).
 *
 * Layout: params | m | v | gradients, each the tensors back to back in the trainer's order and
 * padded to an even count (the kernel takes two at a time; the pad stays 0 and adds 0 to ‖θ‖²).
 */
export interface AdamScalars {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − lr·weightDecay (decoupled weight decay). */
  decay: number;
  /** lr / (1 − β₁ᵗ). */
  stepSize: number;
  /** √(1 − β₂ᵗ). */
  sqrtBc2: number;
}

export class SimdAdam {
  private constructor(
    private readonly kernels: HostKernelExports,
    private readonly names: string[],
    private readonly offsets: Record<string, number>,
    private readonly count: number,
    readonly params: HostParams,
    readonly m: HostParams,
    readonly v: HostParams,
    private readonly grads: Float32Array,
  ) {}

  /** Copies `init` into a fresh kernel memory, or null where the kernels did not load. */
  static create(init: { params: HostParams; m: HostParams; v: HostParams }, names: string[]): SimdAdam | null {
    const kernels = instantiateHostKernels();
    if (!kernels) return null;
    const offsets: Record<string, number> = {};
    let total = 0;
    for (const name of names) {
      offsets[name] = total;
      total += init.params[name].data.length;
    }
    const count = total + (total % 2);
    const bytes = 4 * count * 4;
    const mem = kernels.memory;
    if (bytes > mem.buffer.byteLength) mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / 65536));
    const region = (k: number): Float32Array => new Float32Array(mem.buffer, 4 * count * k, count);
    const views = (k: number, source: HostParams): HostParams => {
      const flat = region(k);
      const out: HostParams = {};
      for (const name of names) {
        const t = source[name];
        const view = flat.subarray(offsets[name], offsets[name] + t.data.length);
        view.set(t.data);
        out[name] = { shape: [...t.shape], data: view };
      }
      return out;
    };
    return new SimdAdam(kernels, names, offsets, count, views(0, init.params), views(1, init.m), views(2, init.v), region(3));
  }

  /** One AdamW step of every parameter; returns ‖θ‖² after it. */
  step(grads: HostParams, s: AdamScalars): number {
    for (const name of this.names) this.grads.set(grads[name].data, this.offsets[name]);
    const c = this.count;
    return this.kernels.adamw(c, 0, 4 * c, 8 * c, 12 * c, s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.decay, s.stepSize, s.sqrtBc2, s.eps);
  }
}
