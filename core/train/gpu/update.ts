/// <reference types="@webgpu/types" />
import { ADAMW, NORM_REDUCE, NORM_SCALE, UPDATE_DELTA } from './update-kernels.js';
import { grid, type Entry, type Recorder } from './program.js';

/**
 * The update of a WGSL group, per step slot (each slot's uniform holds its step's t, bias
 * corrections and norm-history index): AdamW of the active runs with partial sums of θ², the
 * per-run ‖θ‖ (into the history, or into the norm-matched factor), and where any run is
 * norm-matched the rescale and its norm. Two dispatches a step, four with norm-matched runs.
 */
export function partsOf(P: number): number {
  const [x, y] = grid(P, 1);
  return x * y;
}

export function updateEntries(rec: Recorder, buf: Record<string, GPUBuffer>, slots: GPUBuffer[], o: { P: number; runs: number; matched: boolean }): Entry[] {
  const pass = [0, 1].map((k) => rec.uniform(Uint32Array.from([k, 0, 0, 0]).buffer, `norm pass ${k}`));
  const perSlot = (make: (u: GPUBuffer) => ReturnType<Recorder['dispatch']>): Entry => slots.map(make);
  const out: Entry[] = [
    perSlot((u) => rec.dispatch(ADAMW, 'AdamW', [buf.params, buf.m, buf.v, buf.grads, buf.hyper, buf.partial, u], grid(o.P, o.runs))),
    perSlot((u) => rec.dispatch(NORM_REDUCE, '‖θ‖', [buf.partial, buf.hyper, buf.targets, buf.factor, buf.hist, u, pass[0]], [1, 1, o.runs])),
  ];
  if (o.matched) {
    out.push(perSlot((u) => rec.dispatch(NORM_SCALE, 'norm-matched rescale', [buf.params, buf.hyper, buf.factor, buf.partial, u], grid(o.P, o.runs))));
    out.push(perSlot((u) => rec.dispatch(NORM_REDUCE, '‖θ‖ after the rescale', [buf.partial, buf.hyper, buf.targets, buf.factor, buf.hist, u, pass[1]], [1, 1, o.runs])));
  }
  // The step's whole change (after any rescale) for the spectral-edge gap.
  out.push(perSlot((u) => rec.dispatch(UPDATE_DELTA, 'parameter update', [buf.params, buf.hyper, buf.prevParams, buf.updateRing, u], grid(o.P, o.runs))));
  return out;
}
