import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers its gradient functions only from ESM files that Node cannot load
// (directory imports); the union package's Node bundle registers all of them into the same
// global registry. We import it for that side effect; all model code uses the tfjs-core API.
import '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { existsSync, readdirSync } from 'node:fs';

/**
 * Backend selection. Order for `auto`: the native TensorFlow addon (tfjs-node-gpu, then
 * tfjs-node) when installed, else `webgpu` when a child-process probe finds a hardware adapter
 * (a software one such as Mesa's llvmpipe is used only when asked for by name), else `wasm+openblas` (wasm with OpenBLAS matrix products, see
 * blas.ts) where OpenBLAS loads, else `wasm` (SIMD; measured ~5× faster than `cpu` on these
 * machines), else the pure-JS `cpu` backend. The choice and the reason are recorded in every run.
 *
 * tfjs-node(-gpu) keeps one global backend per process (tensorflow/tfjs#8388): only call this
 * from a worker thread, never from the main thread of a host.
 */
import type { BackendChoice } from '../schema/backend-choices.js';
import { installFastMatMulGradient } from './tfjs/matmul-grad.js';
import { loadBlas, registerBlasMatMul } from './host/blas.js';
import { registerWasmRowKernels } from './tfjs/wasm-gather.js';
import { loadHostKernels } from './host/host-kernels.js';
import { describeAdapter, installWebGpu, probeWebGpu } from './gpu/webgpu.js';
import { firstLine } from '../errors.js';
import type { RunConfig } from '../schema/run-config.js';
import { chooseBySpeed, machineKey, measureInChild, shapeKey, worthMeasuring } from './backend-speed.js';

export interface BackendInfo {
  /** tfjs backend name actually in use. */
  name: string;
  /** Why this backend: which ones were tried and what failed. */
  note: string;
}

const require = createRequire(import.meta.url);

async function tryTensorflow(): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return pkg;
      errors.push(`${pkg}: backend did not initialise`);
    } catch (err) {
      const msg = firstLine(err);
      errors.push(`${pkg}: ${/Cannot find (module|package)/.test(msg) ? 'not installed' : msg}`);
    }
  }
  throw new Error(errors.join('; '));
}

async function tryWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the .wasm binaries are read from the package folder.
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  wasm.setWasmPaths(path.join(dir, 'dist') + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not initialise');
  registerWasmRowKernels();
}

/** wasm with sgemm for its matrix products; returns the library used. */
async function tryWasmBlas(): Promise<string> {
  const blas = loadBlas();
  if (blas instanceof Error) throw blas;
  await tryWasm();
  registerBlasMatMul(blas);
  // The fused host MLP (host-mlp.ts) runs here; its SIMD loops are optional.
  const kernels = await loadHostKernels();
  const lib = blas.core ? `${blas.library}, ${blas.core}` : blas.library;
  return kernels instanceof Error ? `${lib}; ${kernels.message}` : lib;
}

/** How long a worker waits for tfjs's own adapter/device request after the probe succeeded. */
const WEBGPU_INIT_TIMEOUT_MS = 30_000;

/** The webgpu backend; returns what the adapter says of itself. */
async function tryWebGpu(allowSoftware: boolean): Promise<string> {
  const probe = await probeWebGpu();
  if (!probe.ok) throw new Error(probe.reason ?? 'no adapter');
  if (probe.software && !allowSoftware) throw new Error(`only a software adapter: ${describeAdapter(probe)}`);
  await installWebGpu();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`device request did not answer in ${WEBGPU_INIT_TIMEOUT_MS / 1000} s`)), WEBGPU_INIT_TIMEOUT_MS);
    timer.unref();
  });
  try {
    if (!(await Promise.race([tf.setBackend('webgpu'), timeout]))) throw new Error('webgpu backend did not initialise');
  } finally {
    clearTimeout(timer);
  }
  return describeAdapter(probe);
}

async function tryCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
}

/** What `auto` may measure with: the run's shape and group size, and where the figures are kept. */
export interface SpeedContext {
  file: string;
  config: RunConfig;
  group: number;
}

/**
 * The backends `auto` considers, in its fixed order: the native addon where it is installed,
 * webgpu on a hardware adapter, then wasm+openblas where OpenBLAS loads, else wasm.
 * GROKSCOPE_AUTO_CANDIDATES=a,b names them instead (tests; a software adapter counts when named).
 */
async function autoCandidates(): Promise<{ candidates: BackendChoice[]; adapter: string | null }> {
  const probe = await probeWebGpu();
  const adapter = probe.ok ? describeAdapter(probe) : null;
  const named = process.env.GROKSCOPE_AUTO_CANDIDATES;
  if (named) return { candidates: named.split(',').map((s) => s.trim()) as BackendChoice[], adapter };
  const out: BackendChoice[] = [];
  if (['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((pkg) => resolvable(pkg))) out.push('tensorflow');
  if (probe.ok && !probe.software) out.push('webgpu');
  out.push(loadBlas() instanceof Error ? 'wasm' : 'wasm+openblas');
  return { candidates: out, adapter };
}

/**
 * Whether a tfjs-node package is installed with its native binding (lib/napi-v<N>/tfjs_binding.node):
 * npm 11 installs the package but runs its download script only where allowed, and a package
 * without its binding would be measured, and fail, for every new shape.
 */
function resolvable(pkg: string): boolean {
  try {
    const lib = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'lib');
    return existsSync(lib) && readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(path.join(lib, d, 'tfjs_binding.node')));
  } catch {
    return false;
  }
}

/** `auto` by measured speed where a device backend competes (backend-speed.ts); null where it does not, or measuring failed. */
async function measuredAuto(speed: SpeedContext): Promise<BackendInfo | null> {
  const { candidates, adapter } = await autoCandidates();
  if (!worthMeasuring(candidates)) return null;
  try {
    const choice = await chooseBySpeed({ file: speed.file, shape: shapeKey(speed.config, speed.group), machine: machineKey(adapter), candidates, measure: (b) => measureInChild(speed.config, b, speed.group) });
    const info = await selectBackend(choice.backend);
    return { name: info.name, note: `auto: ${choice.note}` };
  } catch (err) {
    process.stderr.write(`grokscope: measuring the backends failed (${firstLine(err)}); auto takes its fixed order\n`);
    return null;
  }
}

export async function selectBackend(choice: BackendChoice = 'auto', speed?: SpeedContext): Promise<BackendInfo> {
  // PROD silences tfjs's console advice (e.g. "install tfjs-node"); our own note says which
  // backend runs and why.
  tf.env().set('PROD', true);
  // The explicit-transpose gradient helps tfjs's own matmul kernels; sgemm transposes for free.
  if (choice !== 'wasm+openblas' && choice !== 'auto') installFastMatMulGradient();
  if (choice === 'tensorflow') {
    const pkg = await tryTensorflow().catch((e: Error) => {
      throw new Error(`backend 'tensorflow' is not available (${e.message})`);
    });
    return { name: 'tensorflow', note: `requested; using ${pkg}` };
  }
  if (choice === 'webgpu') {
    const adapter = await tryWebGpu(true).catch((e: Error) => {
      throw new Error(`backend 'webgpu' is not available (${e.message})`);
    });
    return { name: 'webgpu', note: `requested; adapter ${adapter}` };
  }
  if (choice === 'wasm+openblas') {
    const lib = await tryWasmBlas().catch((e: Error) => {
      throw new Error(`backend 'wasm+openblas' is not available (${e.message})`);
    });
    return { name: 'wasm+openblas', note: `requested; sgemm from ${lib}` };
  }
  if (choice === 'wasm') {
    await tryWasm();
    return { name: 'wasm', note: 'requested' };
  }
  if (choice === 'cpu') {
    await tryCpu();
    return { name: 'cpu', note: 'requested' };
  }
  if (speed) {
    const measured = await measuredAuto(speed);
    if (measured) return measured;
  }
  const tried: string[] = [];
  try {
    const pkg = await tryTensorflow();
    installFastMatMulGradient();
    return { name: 'tensorflow', note: `auto: native TensorFlow via ${pkg}` };
  } catch (err) {
    tried.push(`tensorflow unavailable (${(err as Error).message})`);
  }
  try {
    const adapter = await tryWebGpu(false);
    installFastMatMulGradient();
    return { name: 'webgpu', note: `auto: WebGPU on ${adapter}; ${tried.join('; ')}` };
  } catch (err) {
    tried.push(`webgpu unavailable (${(err as Error).message})`);
  }
  const blas = loadBlas();
  if (!(blas instanceof Error)) {
    try {
      const lib = await tryWasmBlas();
      return { name: 'wasm+openblas', note: `auto: wasm with OpenBLAS matrix products (${lib}); ${tried.join('; ')}` };
    } catch (err) {
      tried.push(`wasm+openblas failed (${(err as Error).message})`);
    }
  } else {
    tried.push(`wasm+openblas unavailable (${blas.message})`);
  }
  installFastMatMulGradient();
  try {
    await tryWasm();
    return { name: 'wasm', note: `auto: wasm (fastest registry-only CPU backend); ${tried.join('; ')}` };
  } catch (err) {
    tried.push(`wasm failed (${(err as Error).message})`);
  }
  await tryCpu();
  return { name: 'cpu', note: `auto: pure-JS cpu fallback; ${tried.join('; ')}` };
}
