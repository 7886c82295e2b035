import * as tf from '@tensorflow/tfjs-core';

/**
 * Row lookups on the wasm backend. Measured (scripts/profile-step.ts, reference MLP): tfjs-wasm's
 * GatherV2 takes ~47 ms to gather 2,823 rows of 512 floats, and wasm has no UnsortedSegmentSum,
 * so gather has no gradient there at all. We register both as plain typed-array loops on the wasm
 * heap — a row copy and a row-wise scatter-add, exact and O(rows × width) — so that the models
 * can look tokens up instead of multiplying by one-hot matrices. Other shapes fall back to the
 * original GatherV2 kernel.
 */
interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): WasmTensorInfo;
  typedArrayFromHeap(t: WasmTensorInfo): Float32Array | Int32Array | Uint8Array;
}

let registered = false;

export function registerWasmRowKernels(): void {
  if (registered) return;
  const original = tf.getKernel(tf.GatherV2, 'wasm');
  if (!original) throw new Error('the wasm backend has no GatherV2 kernel to replace');
  tf.unregisterKernel(tf.GatherV2, 'wasm');
  tf.registerKernel({
    kernelName: tf.GatherV2,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x as unknown as WasmTensorInfo;
      const indices = inputs.indices as unknown as WasmTensorInfo;
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      if (x.shape.length !== 2 || indices.shape.length !== 1 || (axis !== 0 && axis !== -2) || batchDims !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32') {
        return original.kernelFunc({ inputs, backend, attrs });
      }
      const be = backend as unknown as WasmBackendLike;
      const [rows, width] = x.shape;
      const n = indices.shape[0];
      const out = be.makeOutput([n, width], 'float32');
      // Views after makeOutput: an allocation may grow (and detach) the heap.
      const src = be.typedArrayFromHeap(x) as Float32Array;
      const idx = be.typedArrayFromHeap(indices) as Int32Array;
      const dst = be.typedArrayFromHeap(out) as Float32Array;
      for (let i = 0; i < n; i++) {
        const r = idx[i];
        if (r < 0 || r >= rows) throw new Error(`GatherV2: index ${r} is not in [0, ${rows})`);
        dst.set(src.subarray(r * width, (r + 1) * width), i * width);
      }
      return out as unknown as tf.TensorInfo;
    },
  });
  if (!tf.getKernel(tf.UnsortedSegmentSum, 'wasm')) {
    tf.registerKernel({
      kernelName: tf.UnsortedSegmentSum,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const x = inputs.x as unknown as WasmTensorInfo;
        const ids = inputs.segmentIds as unknown as WasmTensorInfo;
        const { numSegments } = attrs as unknown as { numSegments: number };
        if (x.dtype !== 'float32' || ids.dtype !== 'int32' || ids.shape.length !== 1 || ids.shape[0] !== x.shape[0]) {
          throw new Error('UnsortedSegmentSum on wasm: float32 data segmented along its first axis only');
        }
        const be = backend as unknown as WasmBackendLike;
        const width = x.shape.slice(1).reduce((a, b) => a * b, 1);
        const out = be.makeOutput([numSegments, ...x.shape.slice(1)], 'float32');
        const src = be.typedArrayFromHeap(x) as Float32Array;
        const seg = be.typedArrayFromHeap(ids) as Int32Array;
        const dst = be.typedArrayFromHeap(out) as Float32Array;
        dst.fill(0);
        for (let i = 0; i < seg.length; i++) {
          const s = seg[i];
          if (s < 0 || s >= numSegments) continue; // TensorFlow drops out-of-range ids
          const o = s * width;
          const p = i * width;
          for (let j = 0; j < width; j++) dst[o + j] += src[p + j];
        }
        return out as unknown as tf.TensorInfo;
      },
    });
  }
  registered = true;
}
