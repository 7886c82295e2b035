/// <reference types="@webgpu/types" />
import { COLSUM, MATMUL, matmulUniform, type MatmulParams } from './kernels.js';
import { storageBuffer, uniformBuffer, type GpuContext } from './device.js';

/**
 * Recorded work for the WGSL engine: pipelines compiled once per device and shader source,
 * buffers and bind groups made once per group, and dispatch lists replayed every step. A step is
 * then only "set pipeline, set bind group, dispatch" per entry (no shader keys, no uniform
 * uploads, no allocations), and the engine counts what it replays.
 */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  groups: [number, number, number];
  label: string;
}

/** Entries of a step: one dispatch, or one per step slot (the step's own constants and mix matrices). */
export type Entry = Dispatch | Dispatch[];

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, source: string, label: string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let p = cache.get(source);
  if (!p) {
    p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: source, label }), entryPoint: 'main' }, label });
    cache.set(source, p);
  }
  return p;
}

/** Workgroups for `count` invocations of a 1-D kernel of 256 (x·y ≤ limit each). */
export function grid(count: number, runs: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / 256));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), runs];
}

export class Recorder {
  private readonly owned: GPUBuffer[] = [];
  readonly device: GPUDevice;

  constructor(readonly ctx: GpuContext) {
    this.device = ctx.device;
  }

  /** A zeroed storage buffer of `words` f32/u32 words, destroyed with the recorder. */
  buffer(words: number, label: string, init?: Float32Array | Uint32Array): GPUBuffer {
    const b = storageBuffer(this.device, words * 4, label);
    this.owned.push(b);
    if (init) this.device.queue.writeBuffer(b, 0, init.buffer, init.byteOffset, init.byteLength);
    return b;
  }

  uniform(data: ArrayBuffer, label: string): GPUBuffer {
    const b = uniformBuffer(this.device, data, label);
    this.owned.push(b);
    return b;
  }

  /** A dispatch of `source` with its bindings in binding order (storage buffers, then uniforms). */
  dispatch(source: string, label: string, buffers: GPUBuffer[], groups: [number, number, number]): Dispatch {
    const pipeline = pipelineFor(this.device, source, label);
    const bind = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })), label });
    return { pipeline, bind, groups, label };
  }

  /** A matrix product over `runs` runs (× J sub-batches); unused X and R bind `spare`. */
  matmul(label: string, p: MatmulParams & { M: number; N: number; K: number }, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer, runs: number, x: GPUBuffer | null, r: GPUBuffer | null, spare: GPUBuffer): Dispatch {
    const u = this.uniform(matmulUniform(p), label);
    return this.dispatch(MATMUL, label, [a, b, c, x ?? spare, r ?? spare, u], [Math.ceil(p.N / 64), Math.ceil(p.M / 64), runs * (p.J ?? 1)]);
  }

  /** out[s, j] = α·Σ_i X[s, i, j] (+ out when accumulate). */
  colsum(label: string, p: { rows: number; cols: number; xOff: number; xRun: number; xRs: number; oOff: number; oRun: number; accumulate?: boolean; alpha?: number }, x: GPUBuffer, out: GPUBuffer, runs: number): Dispatch {
    const buf = new ArrayBuffer(48);
    new Uint32Array(buf).set([p.rows, p.cols, p.xOff, p.xRun, p.xRs, p.oOff, p.oRun, p.accumulate ? 1 : 0]);
    new Float32Array(buf)[8] = p.alpha ?? 1;
    return this.dispatch(COLSUM, label, [x, out, this.uniform(buf, label)], [Math.ceil(p.cols / 64), 1, runs]);
  }

  /** A uniform of four u32 words (the model kernels' n, token stride, first parameter word, params a run). */
  quad(values: number[], label: string): GPUBuffer {
    return this.uniform(Uint32Array.from([...values, 0, 0, 0, 0].slice(0, 4)).buffer, label);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}

/** Encodes entries into one compute pass (slot picks the per-slot variants) and counts the dispatches. */
export function encode(ctx: GpuContext, encoder: GPUCommandEncoder, entries: Entry[], slot = 0): number {
  const pass = encoder.beginComputePass();
  let n = 0;
  for (const e of entries) {
    const d = Array.isArray(e) ? e[slot] : e;
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bind);
    pass.dispatchWorkgroups(...d.groups);
    n++;
  }
  pass.end();
  ctx.counters.dispatches += n;
  return n;
}
