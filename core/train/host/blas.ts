import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { callOriginal, replaceWasmKernel, type WasmTensorInfo } from './wasm-heap.js';
import type { Gemm } from './host-mlp.js';
import { firstLine } from '../../errors.js';

/**
 * Native matrix products for the wasm backend: tfjs's BatchMatMul kernel on `wasm` is replaced by
 * OpenBLAS's cblas_sgemm, called through koffi (an FFI whose npm package ships prebuilt binaries,
 * so nothing is compiled) directly on the wasm heap, without copies. Every other kernel stays
 * wasm. Measured here (scripts/bench-step.mjs, docs/benchmarks.md): sgemm runs the model's shapes
 * 3–20× faster than tfjs-wasm's matmul.
 *
 * The library comes from the system (Debian: libopenblas0-pthread, which `npm install` installs
 * where it can, see scripts/setup-native.mjs). Where koffi or the library is missing, loading
 * fails with a reason, and backend selection falls back to plain wasm and says why.
 *
 * Same mathematics, different rounding: sgemm sums in another order, so runs on `wasm+openblas`
 * agree with `wasm` to float32 rounding (test/blas.test.ts), not bit for bit; the backend name
 * is recorded with every run so that reproduction compares like with like.
 */
const require = createRequire(import.meta.url);

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;
const CBLAS_UPPER = 121;

type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** LAPACK's dsyevd (Fortran interface; the two trailing arguments are the hidden string lengths). */
type Dsyevd = (
  jobz: string,
  uplo: string,
  n: Int32Array,
  a: Float64Array,
  lda: Int32Array,
  w: Float64Array,
  work: Float64Array,
  lwork: Int32Array,
  iwork: Int32Array,
  liwork: Int32Array,
  info: Int32Array,
  jobzLength: number,
  uploLength: number,
) => void;

/** LAPACK's dsterf: every eigenvalue of a symmetric tridiagonal (root-free QR), ascending into d. */
type Dsterf = (n: Int32Array, d: Float64Array, e: Float64Array, info: Int32Array) => void;

/** cblas_ssyrk: C = α·op(A)ᵀop(A) + β·C, one triangle of C written. */
type Ssyrk = (order: number, uplo: number, trans: number, n: number, k: number, alpha: number, a: Float32Array, lda: number, beta: number, c: Float32Array, ldc: number) => void;

export interface Blas {
  sgemm: Sgemm;
  /** The symmetric rank-k product (half a Gram matrix's work), where the library has it. */
  ssyrk?: Ssyrk | null;
  /** LAPACK's symmetric eigensolver, where the library has it (OpenBLAS builds do). */
  dsyevd: Dsyevd | null;
  /** LAPACK's tridiagonal eigensolver (the WGSL evaluator's second half: train/gpu/tridiagonal.ts). */
  dsterf?: Dsterf | null;
  library: string;
  /** The kernels OpenBLAS runs (openblas_get_corename) and why, when we chose them; else null. */
  core: string | null;
}

/**
 * The OpenBLAS kernel family for this CPU, from the flags the kernel reports, or null to leave
 * OpenBLAS's own detection alone. Why: OpenBLAS picks its kernels by CPU model number, and a
 * release older than the CPU does not know it. Debian 12's 0.3.21 on this workplace's Intel Xeon
 * (AVX-512, VNNI, FP16: a 2023 model) falls back to "Prescott" — SSE3 kernels — and the quick
 * Transformer's step took 10.7–13.3 ms with them, 4.6–4.8 ms with SkylakeX's AVX-512 kernels
 * (docs/benchmarks.md). The flags are what the kernels need, so the choice is safe on any CPU that
 * has them.
 */
export function openblasCoreFor(flags: Set<string>): string | null {
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((f) => flags.has(f))) return 'SKYLAKEX';
  if (flags.has('avx2') && flags.has('fma')) return 'HASWELL';
  return null;
}

/** The CPU's flags on Linux (/proc/cpuinfo), else null. */
function cpuFlags(): Set<string> | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return line ? new Set(line.split(':')[1].trim().split(/\s+/)) : null;
  } catch {
    return null;
  }
}

/**
 * Before OpenBLAS loads (it reads OPENBLAS_CORETYPE once, when it initialises): set the kernel
 * family from the CPU's flags, unless the user set one. Through libc's setenv, because a worker
 * thread's process.env is a copy that native code does not see. Returns what was set, or null.
 */
function chooseOpenblasCore(koffi: typeof import('koffi')): string | null {
  if (process.env.OPENBLAS_CORETYPE) return null;
  const flags = cpuFlags();
  const core = flags && openblasCoreFor(flags);
  if (!core) return null;
  try {
    const libc = koffi.load('libc.so.6');
    const getenv = libc.func('const char *getenv(const char *)') as unknown as (k: string) => string | null;
    if (getenv('OPENBLAS_CORETYPE')) return null;
    (libc.func('int setenv(const char *, const char *, int)') as unknown as (k: string, v: string, o: number) => number)('OPENBLAS_CORETYPE', core, 0);
    return core;
  } catch {
    return null;
  }
}

const CANDIDATES: Record<string, string[]> = {
  linux: ['libopenblas.so.0', 'libopenblas.so', '/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/aarch64-linux-gnu/libopenblas.so.0'],
  darwin: ['libopenblas.dylib', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib', '/usr/local/opt/openblas/lib/libopenblas.dylib'],
  win32: ['libopenblas.dll', 'openblas.dll'],
};

let cached: Blas | Error | undefined;

/** OpenBLAS through koffi, or an Error saying why not. Loaded once per thread. */
export function loadBlas(): Blas | Error {
  if (cached) return cached;
  let koffi: typeof import('koffi');
  try {
    koffi = require('koffi') as typeof import('koffi');
  } catch (err) {
    return (cached = new Error(`koffi not available (${firstLine(err)})`));
  }
  const chosen = chooseOpenblasCore(koffi);
  const tried: string[] = [];
  for (const name of CANDIDATES[process.platform] ?? []) {
    try {
      const lib = koffi.load(name);
      const sgemm = lib.func(
        'void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, _Inout_ float *, int)',
      ) as unknown as Sgemm;
      // One thread per product: our products are small, workers already use every core, and
      // OpenBLAS's own threads would fight them.
      try {
        (lib.func('void openblas_set_num_threads(int)') as unknown as (n: number) => void)(1);
      } catch {
        /* not OpenBLAS's own build: nothing to set */
      }
      let ssyrk: Ssyrk | null = null;
      try {
        ssyrk = lib.func('void cblas_ssyrk(int, int, int, int, int, float, float *, int, float, _Inout_ float *, int)') as unknown as Ssyrk;
      } catch {} // a BLAS without it: Gram matrices take sgemm
      let dsyevd: Dsyevd | null = null;
      try {
        dsyevd = lib.func(
          'void dsyevd_(const char *, const char *, const int *, _Inout_ double *, const int *, _Out_ double *, _Inout_ double *, const int *, _Inout_ int *, const int *, _Out_ int *, size_t, size_t)',
        ) as unknown as Dsyevd;
      } catch {
        /* a BLAS without LAPACK: eigenvalues stay in JS */
      }
      let dsterf: Dsterf | null = null;
      try {
        dsterf = lib.func('void dsterf_(const int *, _Inout_ double *, _Inout_ double *, _Out_ int *)') as unknown as Dsterf;
      } catch {} // a BLAS without LAPACK: tridiagonals stay in JS
      let core: string | null = null;
      try {
        const coreName = (lib.func('const char *openblas_get_corename()') as unknown as () => string)();
        core = chosen ? `${coreName} kernels (OPENBLAS_CORETYPE=${chosen}, from the CPU's flags)` : `${coreName} kernels`;
      } catch {
        /* not OpenBLAS: no kernel name to report */
      }
      return (cached = { sgemm, ssyrk, dsyevd, dsterf, library: name, core });
    } catch (err) {
      tried.push(`${name}: ${firstLine(err)}`);
    }
  }
  return (cached = new Error(`OpenBLAS not found (${tried.join('; ') || `no candidates for ${process.platform}`})`));
}

let registered = false;

/**
 * Replace the wasm backend's BatchMatMul with sgemm. Call after the wasm backend is initialised.
 * Handles rank ≥ 2 operands with (broadcast) batch dimensions and both transpose flags.
 */
export function registerBlasMatMul(blas: Blas): void {
  if (registered) return;
  const gemm = blasGemm(blas);
  replaceWasmKernel(tf.BatchMatMul, (original) => {
    if (!original) throw new Error('the wasm backend has no BatchMatMul kernel to replace');
    return (args) => {
      const { inputs, backend: be, attrs } = args;
      const a = inputs.a;
      const b = inputs.b;
      if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('BatchMatMul: float32 only');
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const ra = a.shape.length;
      const rb = b.shape.length;
      const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
      const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
      const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
      const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
      if (k !== kb) throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} must match.`);
      const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const batch = outBatch.reduce((x, y) => x * y, 1);
      // Broadcasting over several batch dimensions at once: not used by our models.
      if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return callOriginal(original, args);
      const out: WasmTensorInfo = be.makeOutput([...outBatch, m, n], 'float32');
      const av = be.typedArrayFromHeap(a) as Float32Array;
      const bv = be.typedArrayFromHeap(b) as Float32Array;
      const cv = be.typedArrayFromHeap(out) as Float32Array;
      const lda = a.shape[ra - 1];
      const ldb = b.shape[rb - 1];
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
        const bi = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
        const ci = batch === 1 ? cv : cv.subarray(i * m * n, (i + 1) * m * n);
        gemm(transposeA, transposeB, m, n, k, ai, lda, bi, ldb, false, ci, n);
      }
      return out;
    };
  });
  registered = true;
}

/** True once this thread's wasm backend multiplies with sgemm (the `wasm+openblas` backend). */
export function blasMatMulRegistered(): boolean {
  return registered;
}

/** sgemm in the shape of host-mlp.ts's Gemm. */
export function blasGemm(blas: Blas): Gemm {
  return (transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc) => {
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, i * ldc, i * ldc + n);
      return;
    }
    blas.sgemm(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS, transB ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, 1, a, lda, b, ldb, accumulate ? 1 : 0, c, ldc);
  };
}

/** α·AᵀA of a row-major rows × width A into the full width² C: ssyrk's upper triangle, mirrored (else sgemm). */
export function blasGram(blas: Blas): (a: Float32Array, rows: number, width: number, alpha: number, c: Float32Array) => void {
  const gemm = blasGemm(blas);
  return (a, rows, width, alpha, c) => {
    if (!blas.ssyrk) {
      gemm(true, false, width, width, rows, a, width, a, width, false, c, width);
      for (let k = 0; k < c.length; k++) c[k] *= alpha;
      return;
    }
    blas.ssyrk(CBLAS_ROW_MAJOR, CBLAS_UPPER, CBLAS_TRANS, width, rows, alpha, a, width, 0, c, width);
    for (let i = 1; i < width; i++) for (let j = 0; j < i; j++) c[i * width + j] = c[j * width + i];
  };
}
