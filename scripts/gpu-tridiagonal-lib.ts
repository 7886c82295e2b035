/**
 * The WGSL evaluator's reduction of symmetric matrices to tridiagonals (core/train/gpu/tridiagonal.ts)
 * timed on this machine's WebGPU adapter: for each width and batch size (matrices reduced at once,
 * one workgroup each), the median of `reps` dispatches from submit to the small read of their
 * tridiagonals, and the host's float64 half for one matrix. The figures docs/decisions.md
 * ("Eigenvalues of a WGSL evaluation") waits for from a GPU; scripts/gpu-session-main.ts runs it as
 * its `eigen` part; `npm run bench:tridiagonal` runs it alone (scripts/bench-tridiagonal.ts). No
 * top-level work here: the GPU kit bundles this file into the session's one bundle.
 */
import { gpuContext, readRegions } from '../core/train/gpu/device.js';
import { encode, Recorder } from '../core/train/gpu/program.js';
import { GpuTridiagonal } from '../core/train/gpu/tridiagonal.js';
import { tridiagonalEigenvaluesHere } from '../core/train/eval/eigen.js';
import { Rng } from '../core/rng.js';

export interface TridiagonalTiming {
  width: number;
  batch: number;
  msMedian: number;
  msPerMatrix: number;
  hostMsPerMatrix: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function tridiagonalTimes(widths: number[], batches: number[], reps: number): Promise<TridiagonalTiming[]> {
  const ctx = await gpuContext();
  const solve = tridiagonalEigenvaluesHere();
  const rng = new Rng(3);
  const out: TridiagonalTiming[] = [];
  for (const n of widths) {
    // One symmetric matrix, copied into every slot (the reduction's cost does not depend on the values).
    const a = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal() / n + (i === j ? 1 : 0);
    for (const batch of batches) {
      const rec = new Recorder(ctx);
      try {
        const data = new Float32Array(batch * n * n);
        for (let s = 0; s < batch; s++) data.set(a, s * n * n);
        const buf = rec.buffer(data.length, 'matrices');
        const tri = new GpuTridiagonal(rec, buf, [{ n, offset: 0 }], n * n, batch, solve);
        const times: number[] = [];
        let values: Float32Array | null = null;
        for (let r = 0; r <= Math.max(1, reps); r++) {
          // The reduction overwrites its matrices: upload them again, and wait for the upload outside the clock.
          ctx.device.queue.writeBuffer(buf, 0, data);
          await ctx.device.queue.onSubmittedWorkDone();
          const t0 = performance.now();
          const encoder = ctx.device.createCommandEncoder();
          encode(ctx, encoder, [tri.entry(batch)]);
          ctx.device.queue.submit([encoder.finish()]);
          [values] = await readRegions(ctx, [tri.region(batch)]);
          if (r > 0) times.push(performance.now() - t0); // the first: pipeline compilation
        }
        tri.eigenvalues(values!, 0, 0); // the solver's first call (LAPACK's set-up) off the clock
        const h0 = performance.now();
        for (let s = 0; s < batch; s++) tri.eigenvalues(values!, s, 0);
        const hostMs = (performance.now() - h0) / batch;
        const ms = median(times);
        out.push({ width: n, batch, msMedian: +ms.toFixed(3), msPerMatrix: +(ms / batch).toFixed(4), hostMsPerMatrix: +hostMs.toFixed(3) });
      } finally {
        rec.destroy();
      }
    }
  }
  return out;
}
