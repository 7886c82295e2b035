import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { loadCheckpoint, saveCheckpoint } from '../core/train/checkpoint.js';
import { executeRun } from '../core/runs/run-executor.js';
import { Library } from '../core/library/library.js';
import { tempDir } from './helpers/tmp.js';
import { poolAndLibrary } from './helpers/pool.js';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';

const config = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 60, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 25, seed: 5 });

describe('checkpoints', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('resuming from a checkpoint gives bit-identical parameters to an uninterrupted run', async () => {
    const ds = makeDataset({ task: 'mod-add', p: 11, trainFraction: 0.5, seed: 5 });
    const straight = new Trainer(config, ds);
    for (let i = 0; i < 20; i++) await straight.trainStep();
    const first = new Trainer(config, ds);
    for (let i = 0; i < 10; i++) await first.trainStep();
    const { dir, cleanup } = tempDir();
    const file = path.join(dir, 'c.ckpt');
    saveCheckpoint(file, first.snapshot());
    first.dispose();
    const resumed = new Trainer(config, ds, loadCheckpoint(file));
    expect(resumed.step).toBe(10);
    for (let i = 0; i < 10; i++) await resumed.trainStep();
    const a = straight.snapshot();
    const b = resumed.snapshot();
    for (const name of Object.keys(a.params)) {
      expect(Array.from(b.params[name].data)).toEqual(Array.from(a.params[name].data));
      expect(Array.from(b.v[name].data)).toEqual(Array.from(a.v[name].data));
    }
    straight.dispose();
    resumed.dispose();
    cleanup();
  });

  it('rejects truncated and foreign checkpoint files with a clear message', () => {
    const { dir, cleanup } = tempDir();
    const ds = makeDataset({ task: 'mod-add', p: 11, trainFraction: 0.5, seed: 5 });
    const t = new Trainer(config, ds);
    const file = path.join(dir, 'c.ckpt');
    saveCheckpoint(file, t.snapshot());
    t.dispose();
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    expect(() => loadCheckpoint(file)).toThrow(/truncated/);
    writeFileSync(file, 'hello');
    expect(() => loadCheckpoint(file)).toThrow(/not a Grokscope checkpoint/);
    cleanup();
  });

  it('carries the spectral-edge gap of its step and the early-stop count in the header, and ignores a malformed gap', () => {
    const { dir, cleanup } = tempDir();
    const ds = makeDataset({ task: 'mod-add', p: 11, trainFraction: 0.5, seed: 5 });
    const t = new Trainer(config, ds);
    const file = path.join(dir, 'c.ckpt');
    try {
      saveCheckpoint(file, t.snapshot(), { updateEdge: { gap: 3.5, k: 2 }, solvedEvals: 3 });
      expect(loadCheckpoint(file).updateEdge).toEqual({ gap: 3.5, k: 2 });
      expect(loadCheckpoint(file).solvedEvals).toBe(3);
      saveCheckpoint(file, t.snapshot());
      expect(loadCheckpoint(file).updateEdge).toBeUndefined();
      // A header whose gap is not a number reads as a checkpoint without one (same length, so the data still fits).
      saveCheckpoint(file, t.snapshot(), { updateEdge: { gap: 3.5, k: 2 } });
      const bytes = readFileSync(file);
      writeFileSync(file, Buffer.from(bytes.toString('latin1').replace('"gap":3.5', '"gap":"x"'), 'latin1'));
      expect(loadCheckpoint(file).updateEdge).toBeUndefined();
    } finally {
      t.dispose();
      cleanup();
    }
  });
});

describe('stop and resume through the worker pool', () => {
  const ctx = poolAndLibrary(beforeAll, afterAll);

  it('a stopped and resumed run records exactly the metrics of an uninterrupted one', async () => {
    const libraryDir = ctx.dir;
    const cfg = { ...config, backend: 'wasm' as const };
    const whole = await executeRun({ libraryDir, pool: ctx.pool, config: cfg });
    expect(whole.status).toBe('completed');
    expect(whole.backend).toBe('wasm');

    // Asked to stop at step 15 by the worker itself, whatever the machine's speed: inside the
    // update window of the evaluation at 20 (steps 11–20), so it stops there, the window whole.
    const stopped = await executeRun({ libraryDir, pool: ctx.pool, config: cfg, stopAtStep: 15 });
    expect(stopped.status).toBe('stopped');
    expect(stopped.steps).toBe(20);
    const resumed = await executeRun({ libraryDir, pool: ctx.pool, resumeRunId: stopped.runId });
    expect(resumed.status).toBe('completed');
    expect(resumed.runId).toBe(stopped.runId);

    await Library.with(libraryDir, async (lib) => {
      const a = await lib.getMetrics(whole.runId);
      const b = await lib.getMetrics(stopped.runId);
      expect(a.map((m) => m.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
      // The spectral-edge gap from the first full window on; the resumed run has it at its resume step too.
      expect(a.map((m) => m.scalars.update_gap !== undefined)).toEqual([false, true, true, true, true, true, true]);
      expect(b).toEqual(a);
      expect(await lib.getSpectra(stopped.runId)).toEqual(await lib.getSpectra(whole.runId));
      const run = await lib.getRun(stopped.runId);
      expect(run.status).toBe('completed');
      expect(run.events).toEqual((await lib.getRun(whole.runId)).events);
    });
  });

  it('a run stopped during an early-stop streak resumes with its count and stops early where its twin did', async () => {
    const libraryDir = ctx.dir;
    // Every evaluation counts as solved (threshold 0.001), so the streak is 0, 10, 20, 30: early stop at 30.
    const cfg = { ...config, backend: 'wasm' as const, grokThreshold: 0.001, earlyStopEvals: 4, seed: 6 };
    const whole = await executeRun({ libraryDir, pool: ctx.pool, config: cfg });
    expect(whole.steps).toBe(30);
    // Stopped at 20 (asked at 15, inside the window before 20) with 3 evaluations of the streak behind it.
    const stopped = await executeRun({ libraryDir, pool: ctx.pool, config: cfg, stopAtStep: 15 });
    expect(stopped.steps).toBe(20);
    const resumed = await executeRun({ libraryDir, pool: ctx.pool, resumeRunId: stopped.runId });
    expect(resumed.status).toBe('completed');
    expect(resumed.steps).toBe(30);
    await Library.with(libraryDir, async (lib) => {
      expect(await lib.getMetrics(stopped.runId)).toEqual(await lib.getMetrics(whole.runId));
    });
  });

  it('a run that fails in its worker is recorded as failed with the reason', async () => {
    const bad = { ...config, p: 11, task: 'mod-add' as const, steps: 5 };
    // An impossible backend request fails inside the worker, after the run was created.
    const outcome = await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: { ...bad, backend: 'tensorflow' } });
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/tensorflow/);
    const run = await Library.with(ctx.dir, (lib) => lib.getRun(outcome.runId));
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/not available/);
  });
});
