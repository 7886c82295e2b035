/// <reference types="@webgpu/types" />
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * WebGPU through Dawn's Node bindings (the optional `webgpu` package) and
 * `@tensorflow/tfjs-backend-webgpu`.
 *
 * Asking Dawn for an adapter loads Vulkan drivers, and a broken driver can hang that request or
 * crash the process. So the first request happens in a child process with a timeout (SIGKILL on
 * expiry): a hung or crashing adapter can cost a worker a few seconds, never the worker itself.
 * Only after the child found an adapter does a worker ask for one in its own process.
 */

export interface AdapterProbe {
  ok: boolean;
  /** Why there is no usable adapter (when !ok). */
  reason?: string;
  /** What the adapter says of itself (when ok). */
  vendor?: string;
  architecture?: string;
  description?: string;
  /** A CPU implementation (Mesa's llvmpipe, SwiftShader): runs, but is no GPU. */
  software?: boolean;
}

export const PROBE_TIMEOUT_MS = 15_000;

const require = createRequire(import.meta.url);

/** The `webgpu` package's entry, or why it cannot be used. */
export function webgpuEntry(): string | Error {
  try {
    return require.resolve('webgpu');
  } catch {
    return new Error('the optional package `webgpu` is not installed');
  }
}

/** The child's program: one adapter request, one JSON line on stdout. */
export function probeProgram(entry: string): string {
  return `
const { create } = await import(${JSON.stringify(pathToFileURL(entry).href)});
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) { console.log(JSON.stringify({ ok: false, reason: 'no WebGPU adapter (no Vulkan driver that Dawn accepts)' })); process.exit(0); }
const info = adapter.info ?? {};
const device = await adapter.requestDevice();
device.destroy();
console.log(JSON.stringify({ ok: true, vendor: info.vendor, architecture: info.architecture, description: info.description,
  software: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || /llvmpipe|swiftshader|lavapipe/i.test(String(info.description) + String(info.device)) }));
process.exit(0);
`;
}

/**
 * Runs `program` (an ES module source) in a child Node process and reads the probe's JSON line.
 * Exposed with the program as a parameter so that tests can stand in a hanging or crashing probe.
 */
export function runProbe(program: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<AdapterProbe> {
  return new Promise((resolve) => {
    // Dawn's Vulkan loader complains on stderr when XDG_RUNTIME_DIR is unset; it is harmless.
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    execFile(
      process.execPath,
      ['--input-type=module', '-e', program],
      { timeout: timeoutMs, killSignal: 'SIGKILL', env, maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err && (err as NodeJS.ErrnoException & { killed?: boolean }).killed) {
          resolve({ ok: false, reason: `adapter probe timed out after ${Math.round(timeoutMs / 1000)} s` });
          return;
        }
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          const parsed = JSON.parse(line) as AdapterProbe;
          if (typeof parsed.ok === 'boolean') {
            resolve(parsed);
            return;
          }
        } catch {
          // fall through: the child died before it could say anything
        }
        const why = err ? (err.code !== undefined ? `exit code ${err.code}` : (err.signal ?? err.message)) : 'no answer';
        resolve({ ok: false, reason: `adapter probe failed (${why})` });
      },
    );
  });
}

let cached: Promise<AdapterProbe> | null = null;

/**
 * Probes once per thread: a worker that asks again gets the first answer.
 * GROKSCOPE_WEBGPU=off skips the probe (and so WebGPU) altogether.
 */
export function probeWebGpu(): Promise<AdapterProbe> {
  if (process.env.GROKSCOPE_WEBGPU === 'off') return Promise.resolve({ ok: false, reason: 'turned off by GROKSCOPE_WEBGPU=off' });
  if (!cached) {
    const entry = webgpuEntry();
    cached = entry instanceof Error ? Promise.resolve({ ok: false, reason: entry.message }) : runProbe(probeProgram(entry));
  }
  return cached;
}

export function describeAdapter(p: AdapterProbe): string {
  return [p.vendor, p.architecture, p.description].filter(Boolean).join(' / ') + (p.software ? ' (software adapter, not a GPU)' : '');
}

/**
 * Dawn's GPU object, held for the thread's whole life and installed once. Before, every backend
 * selection installed a fresh one and dropped the previous to the garbage collector while tfjs's
 * device, made from it, was still in use. We suspect that in the processes that died on their
 * second or third model ("Fatal glibc error: pthread_mutex_lock … assertion failed" on an H200;
 * once here, test/webgpu.test.ts on llvmpipe under load) but could not reproduce the crash either
 * way (scratch runs of 12 models with forced GC passed both ways); one instance is right anyway.
 */
let dawnGpu: GPU | null = null;

/**
 * Work sent to Dawn by this thread, whoever sent it (tfjs's webgpu backend or our WGSL engine):
 * compute dispatches, queue submits and buffer maps (host reads) with the bytes they map. Counted by wrapping Dawn's own
 * prototypes once, so every engine is counted the same way (`grokscope bench --json`).
 */
export const dawnCounts = { dispatches: 0, submits: 0, reads: 0, readBytes: 0 };

/** What Dawn received per step over `steps` calls of `step` (none of which should read). */
export async function deviceWorkPerStep(steps: number, step: () => Promise<void>): Promise<{ dispatchesPerStep: number; submitsPerStep: number; readsPerStep: number }> {
  const before = { ...dawnCounts };
  for (let i = 0; i < steps; i++) await step();
  return { dispatchesPerStep: (dawnCounts.dispatches - before.dispatches) / steps, submitsPerStep: (dawnCounts.submits - before.submits) / steps, readsPerStep: (dawnCounts.reads - before.reads) / steps };
}

function countDawnWork(globals: Record<string, unknown>): void {
  const wrap = (cls: unknown, method: string, key: keyof typeof dawnCounts): void => {
    const proto = (cls as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    const original = proto?.[method];
    if (typeof original !== 'function') return;
    proto![method] = function (this: unknown, ...args: unknown[]) {
      dawnCounts[key]++;
      // mapAsync(mode, offset?, size?): the bytes mapped for reading (GPUMapMode.READ = 1), the rest of the buffer where size is left out.
      if (key === 'reads' && ((args[0] as number) & 1) !== 0) dawnCounts.readBytes += typeof args[2] === 'number' ? args[2] : (this as GPUBuffer).size - (typeof args[1] === 'number' ? args[1] : 0);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  };
  wrap(globals.GPUComputePassEncoder, 'dispatchWorkgroups', 'dispatches');
  wrap(globals.GPUQueue, 'submit', 'submits');
  wrap(globals.GPUBuffer, 'mapAsync', 'reads');
}
let creating: Promise<GPU> | null = null;
let installing: Promise<void> | null = null;

/**
 * Dawn's GPU object for this thread, created once (with Dawn's globals — GPUBufferUsage and the
 * like — installed on globalThis). Shared by tfjs's webgpu backend and our own WGSL engine
 * (core/train/gpu/), so a worker holds one Dawn instance for its whole life. The probe must have
 * found an adapter first.
 */
export function dawnInstance(): Promise<GPU> {
  creating ??= (async () => {
    const entry = webgpuEntry();
    if (entry instanceof Error) throw entry;
    const { create, globals } = (await import(pathToFileURL(entry).href)) as {
      create: (flags: string[]) => GPU;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, globals);
    countDawnWork(globals);
    dawnGpu = create([]);
    return dawnGpu;
  })().catch((err: unknown) => {
    creating = null;
    throw err;
  });
  return creating;
}

/**
 * Makes tfjs's `webgpu` backend available in this thread, once: the probe must have found an
 * adapter. tfjs-backend-webgpu registers itself at import time only where `navigator.gpu` exists,
 * so the Dawn instance is installed there first (Node 20 has no navigator of its own).
 */
export function installWebGpu(): Promise<void> {
  installing ??= (async () => {
    const gpu = await dawnInstance();
    const g = globalThis as unknown as { navigator?: Record<string, unknown> };
    if (!g.navigator) g.navigator = {};
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
  })().catch((err: unknown) => {
    installing = null;
    throw err;
  });
  return installing;
}
