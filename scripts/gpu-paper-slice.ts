import { parentPort, Worker } from 'node:worker_threads';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { loadBlas } from '../core/train/host/blas.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { NAMED_STUDIES, planRuns } from '../core/study/spec.js';

/**
 * A slice of the `paper` study on one GPU, the way a study runs it: `groups` worker threads at once,
 * each with its own Dawn device and one WGSL group of `size` runs (the first half Transformers, the
 * second MLPs; 8 × 30 was the first paper design's 240 runs), every group training `steps` steps with evaluations
 * on the preset's schedule (every `evalEvery` steps, spectra on every (spectrumEvery/evalEvery)-th
 * evaluation counted from the first). Set-up (pipelines, uploads) is timed apart and the timed phase
 * starts in all workers together. What it leaves out of a real study: checkpoints, the library's
 * writes, other tasks than mod-add, and the interventions' extra kernels.
 */
const PAPER_RUN_STEPS = planRuns(NAMED_STUDIES.paper).reduce((a, r) => a + r.config.steps, 0);

export interface SliceOptions {
  preset: 'quick' | 'reference';
  groups: number;
  size: number;
  steps: number;
  seconds: number;
}

interface WorkerResult {
  arch: string;
  setupMs: number;
  stepMs: number;
  evalMs: number;
  steps: number;
  evals: number;
  eigen: string;
  error?: string;
}

export async function sliceWorker(o: SliceOptions & { arch: 'transformer' | 'mlp'; seed0: number }): Promise<void> {
  const port = parentPort!;
  const t0 = performance.now();
  const config = parseRunConfig({ ...PRESETS[o.preset], arch: o.arch, backend: 'webgpu' });
  let group: WgslGroup | null = null;
  const result: WorkerResult = { arch: o.arch, setupMs: 0, stepMs: 0, evalMs: 0, steps: 0, evals: 0, eigen: loadBlas() instanceof Error ? 'js' : 'lapack' };
  try {
    group = await WgslGroup.create(Array.from({ length: o.size }, (_, i) => ({ config: { ...config, seed: o.seed0 + i } })));
    await group.trainStep();
    await group.evaluate(group.active(), true); // pipelines of the evaluation recorded
    result.setupMs = performance.now() - t0;
    port.postMessage({ ready: true });
    await new Promise<void>((resolve) => port.once('message', () => resolve()));
    const start = performance.now();
    const spectraEvery = Math.max(1, Math.round(config.spectrumEvery / config.evalEvery));
    for (let s = 1; s <= o.steps; s++) {
      const s0 = performance.now();
      await group.trainStep();
      result.stepMs += performance.now() - s0;
      result.steps = s;
      if (s % config.evalEvery === 0) {
        const e0 = performance.now();
        await group.takeNorms(0); // queued steps finish on the steps' clock
        result.stepMs += performance.now() - e0;
        const e1 = performance.now();
        await group.evaluate(group.active(), result.evals % spectraEvery === 0);
        result.evalMs += performance.now() - e1;
        result.evals++;
        if ((performance.now() - start) / 1000 > o.seconds) break;
      }
    }
    const d0 = performance.now();
    await group.takeNorms(0); // the last queued steps
    result.stepMs += performance.now() - d0;
  } catch (err) {
    result.error = (err as Error).message;
    port.postMessage({ ready: true });
  } finally {
    group?.dispose();
  }
  port.postMessage({ result });
}

/** Runs the slice from the main thread; `entry` is the file whose worker side calls sliceWorker. */
export async function paperSlice(o: SliceOptions, entry: URL): Promise<Record<string, unknown>> {
  const workers = Array.from({ length: o.groups }, (_, g) => {
    const arch = g < Math.ceil(o.groups / 2) ? 'transformer' : 'mlp';
    return new Worker(entry, { workerData: { ...o, arch, seed0: g * o.size } });
  });
  const ready = workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve())));
  const done = workers.map((w) => new Promise<WorkerResult>((resolve, reject) => {
    w.on('message', (m: { result?: WorkerResult }) => m.result && resolve(m.result));
    w.on('error', reject);
  }));
  await Promise.all(ready);
  const start = performance.now();
  for (const w of workers) w.postMessage('go');
  const results = await Promise.all(done);
  const wallMs = performance.now() - start;
  await Promise.all(workers.map((w) => w.terminate()));
  const runSteps = results.reduce((a, r) => a + (r.error ? 0 : r.steps * o.size), 0);
  const msPerRunStep = wallMs / Math.max(1, runSteps);
  return {
    preset: o.preset,
    groups: o.groups,
    size: o.size,
    wallSeconds: wallMs / 1000,
    runSteps,
    msPerRunStepWithEvals: msPerRunStep,
    // The paper study's planned run-steps (core/study/spec.ts; no early stop) at this slice's rate
    // (evaluations included at the preset's cadence; set-up, checkpoints, library writes and the
    // logit-matched runs' extra forward not).
    paperRunSteps: PAPER_RUN_STEPS,
    paperHoursAtThisRate: (PAPER_RUN_STEPS * msPerRunStep) / 3.6e6,
    workers: results.map((r) => ({ ...r, setupMs: Math.round(r.setupMs), stepMs: Math.round(r.stepMs), evalMs: Math.round(r.evalMs) })),
  };
}
