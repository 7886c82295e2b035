import * as tf from '@tensorflow/tfjs-core';

/**
 * What our wasm kernels (blas.ts, wasm-gather.ts) need of tfjs-wasm's backend: outputs allocated
 * on its heap and typed-array views of any tensor there. Views must be taken after the last
 * allocation of a kernel call: an allocation may grow (and detach) the heap.
 */
export interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): WasmTensorInfo;
  typedArrayFromHeap(t: WasmTensorInfo): Float32Array | Int32Array | Uint8Array;
}

export type WasmKernel = (args: { inputs: Record<string, WasmTensorInfo>; backend: WasmBackendLike; attrs: Record<string, unknown> }) => WasmTensorInfo;

/**
 * Register `kernel` as the wasm backend's `name`, replacing tfjs's own if there is one; the
 * replacement receives the original (or null) to fall back on for shapes it does not handle.
 */
export function replaceWasmKernel(name: string, make: (original: tf.KernelConfig | null) => WasmKernel): void {
  const original = tf.getKernel(name, 'wasm') ?? null;
  if (original) tf.unregisterKernel(name, 'wasm');
  const kernel = make(original);
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernel as unknown as tf.KernelFunc });
}

/** Call tfjs's original kernel with the arguments our replacement received. */
export function callOriginal(original: tf.KernelConfig, args: Parameters<WasmKernel>[0]): WasmTensorInfo {
  return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as unknown as WasmTensorInfo;
}
