import * as tf from '@tensorflow/tfjs-core';
import { callOriginal, replaceWasmKernel } from '../host/wasm-heap.js';

/**
 * Row lookups on the wasm backend. Measured (scripts/profile-step.ts, reference MLP): tfjs-wasm's
 * GatherV2 takes ~47 ms to gather 2,823 rows of 512 floats, and wasm has no UnsortedSegmentSum,
 * so gather has no gradient there at all. We register both as plain typed-array loops on the wasm
 * heap — a row copy and a row-wise scatter-add, exact and O(rows × width) — so that the models
 * can look tokens up instead of multiplying by one-hot matrices. Other shapes fall back to the
 * original GatherV2 kernel.
 */
let registered = false;

export function registerWasmRowKernels(): void {
  if (registered) return;
  replaceWasmKernel(tf.GatherV2, (original) => {
    if (!original) throw new Error('the wasm backend has no GatherV2 kernel to replace');
    return (args) => {
      const { inputs, backend: be, attrs } = args;
      const x = inputs.x;
      const indices = inputs.indices;
      const { axis, batchDims } = attrs as { axis: number; batchDims: number };
      if (x.shape.length !== 2 || indices.shape.length !== 1 || (axis !== 0 && axis !== -2) || batchDims !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32') {
        return callOriginal(original, args);
      }
      const [rows, width] = x.shape;
      const n = indices.shape[0];
      const out = be.makeOutput([n, width], 'float32');
      const src = be.typedArrayFromHeap(x) as Float32Array;
      const idx = be.typedArrayFromHeap(indices) as Int32Array;
      const dst = be.typedArrayFromHeap(out) as Float32Array;
      for (let i = 0; i < n; i++) {
        const r = idx[i];
        if (r < 0 || r >= rows) throw new Error(`GatherV2: index ${r} is not in [0, ${rows})`);
        dst.set(src.subarray(r * width, (r + 1) * width), i * width);
      }
      return out;
    };
  });
  // tfjs-wasm has no UnsortedSegmentSum (the gradient of gather): ours is the only one.
  replaceWasmKernel(tf.UnsortedSegmentSum, () => ({ inputs, backend: be, attrs }) => {
    const x = inputs.x;
    const ids = inputs.segmentIds;
    const { numSegments } = attrs as { numSegments: number };
    if (x.dtype !== 'float32' || ids.dtype !== 'int32' || ids.shape.length !== 1 || ids.shape[0] !== x.shape[0]) {
      throw new Error('UnsortedSegmentSum on wasm: float32 data segmented along its first axis only');
    }
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
    return out;
  });
  registered = true;
}
