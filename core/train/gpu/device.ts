/// <reference types="@webgpu/types" />
import { dawnInstance, probeWebGpu } from './webgpu.js';

/**
 * The Dawn device of the WGSL engine (docs/backends.md, "The WGSL engine"): one per thread, made
 * once and kept for the worker's life, shared by every group the worker trains. It asks for the
 * adapter's own limits on buffer sizes, storage bindings and workgroup counts (the defaults — 128
 * MiB a binding, 8 storage buffers a stage — are far below what a GPU has, and a group's stacked
 * activations outgrow them).
 *
 * A lost device is remembered with its reason: the group that was training fails with that one
 * line and its runs resume from their checkpoints; the next group asks for a new device.
 *
 * The engine counts its own work here (dispatches, queue submits, host reads), so that benchmarks
 * and tests report counts rather than guesses (`grokscope bench --json`: dispatches_per_step…).
 */
export interface GpuCounters {
  dispatches: number;
  submits: number;
  reads: number;
}

export interface GpuContext {
  device: GPUDevice;
  /** What the adapter says of itself. */
  adapter: string;
  counters: GpuCounters;
  /** Why the device was lost (or refused our work), once it was. */
  lost: string | null;
}

let current: Promise<GpuContext> | null = null;

/** Limits we ask for: the adapter's own, where it has more than the default. */
const WANTED_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupsPerDimension', 'maxComputeWorkgroupStorageSize'] as const;

/** The thread's device, made on first use (the probe must find an adapter; a software one is accepted). */
export function gpuContext(): Promise<GpuContext> {
  current ??= (async () => {
    const probe = await probeWebGpu();
    if (!probe.ok) throw new Error(probe.reason ?? 'no WebGPU adapter');
    const gpu = await dawnInstance();
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('no WebGPU adapter');
    const requiredLimits: Record<string, number> = {};
    for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
    const device = await adapter.requestDevice({ requiredLimits });
    const info = adapter.info;
    const ctx: GpuContext = { device, adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' / '), counters: { dispatches: 0, submits: 0, reads: 0 }, lost: null };
    // An error nobody scoped is a bug of ours (a dispatch the device refused): its submit did
    // nothing, so the group must fail rather than go on with stale numbers.
    device.addEventListener?.('uncapturederror', (event) => {
      ctx.lost ??= `the WebGPU device refused our work (${(event as GPUUncapturedErrorEvent).error.message.split('\n')[0]})`;
      current = null; // the next group starts on a fresh device
    });
    void device.lost.then((why) => {
      ctx.lost = `the WebGPU device was lost (${why.reason}${why.message ? `: ${why.message}` : ''})`;
      // The next group asks for a new device.
      if (current) current = null;
    });
    return ctx;
  })().catch((err: unknown) => {
    current = null;
    throw err;
  });
  return current;
}

/** Buffers the engine allocates, with usages for storage, uploads and copies out. */
export function storageBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (size > device.limits.maxStorageBufferBindingSize) throw new Error(`${label} needs ${(size / 2 ** 20).toFixed(0)} MiB, over this adapter's ${(device.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB a binding`);
  return device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC, label });
}

export function uniformBuffer(device: GPUDevice, data: ArrayBuffer, label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  const buf = device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

/** A region of a device buffer to bring back to the host. */
export interface ReadRegion {
  buffer: GPUBuffer;
  /** Offsets and lengths in 4-byte words. */
  offset: number;
  length: number;
}

/**
 * Copies every region into one staging buffer and maps it once: one host read, however many
 * regions (counted as one read). Returns each region's words as a Float32Array (reinterpret as
 * integers where a region holds them).
 */
export async function readRegions(ctx: GpuContext, regions: ReadRegion[]): Promise<Float32Array[]> {
  const { device } = ctx;
  const total = regions.reduce((t, r) => t + r.length, 0);
  const staging = device.createBuffer({ size: Math.max(16, total * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'read-back' });
  try {
    const encoder = device.createCommandEncoder();
    let at = 0;
    for (const r of regions) {
      if (r.length > 0) encoder.copyBufferToBuffer(r.buffer, r.offset * 4, staging, at * 4, r.length * 4);
      at += r.length;
    }
    device.queue.submit([encoder.finish()]);
    ctx.counters.submits++;
    ctx.counters.reads++;
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (err) {
      throw new Error(ctx.lost ?? `a read from the WebGPU device failed (${String((err as Error).message ?? err).split('\n')[0]})`);
    }
    if (ctx.lost) throw new Error(ctx.lost);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    at = 0;
    return regions.map((r) => {
      const part = all.subarray(at, at + r.length);
      at += r.length;
      return part;
    });
  } finally {
    staging.destroy();
  }
}

/**
 * Runs `make` inside validation and out-of-memory error scopes: an error the device raised meanwhile
 * throws "<what>: <its first line>" (after `undo` on what was made) instead of surfacing later.
 */
export async function withErrorScopes<T>(ctx: GpuContext, what: string, make: () => T, undo: (made: T) => void): Promise<T> {
  ctx.device.pushErrorScope('validation');
  ctx.device.pushErrorScope('out-of-memory');
  let made: T | undefined;
  let failure: unknown = null;
  try {
    made = make();
  } catch (err) {
    failure = err;
  }
  const oom = await ctx.device.popErrorScope();
  const invalid = await ctx.device.popErrorScope();
  const error = oom ?? invalid;
  if (error) {
    if (made !== undefined) undo(made);
    throw new Error(`${what}: ${error.message.split('\n')[0]}`);
  }
  if (failure) throw failure;
  return made as T;
}
