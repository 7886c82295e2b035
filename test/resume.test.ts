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
});

describe('stop and resume through the worker pool', () => {
  const ctx = poolAndLibrary(beforeAll, afterAll);

  it('a stopped and resumed run records exactly the metrics of an uninterrupted one', async () => {
    const libraryDir = ctx.dir;
    const cfg = { ...config, backend: 'wasm' as const };
    const whole = await executeRun({ libraryDir, pool: ctx.pool, config: cfg });
    expect(whole.status).toBe('completed');
    expect(whole.backend).toBe('wasm');

    // Stopped at step 15 by the worker (between checkpoints at 0 and 25), whatever the machine's speed.
    const stopped = await executeRun({ libraryDir, pool: ctx.pool, config: cfg, stopAtStep: 15 });
    expect(stopped.status).toBe('stopped');
    expect(stopped.steps).toBe(15);
    const resumed = await executeRun({ libraryDir, pool: ctx.pool, resumeRunId: stopped.runId });
    expect(resumed.status).toBe('completed');
    expect(resumed.runId).toBe(stopped.runId);

    await Library.with(libraryDir, async (lib) => {
      const a = await lib.getMetrics(whole.runId);
      const b = await lib.getMetrics(stopped.runId);
      expect(a.map((m) => m.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
      expect(b).toEqual(a);
      expect(await lib.getSpectra(stopped.runId)).toEqual(await lib.getSpectra(whole.runId));
      const run = await lib.getRun(stopped.runId);
      expect(run.status).toBe('completed');
      expect(run.events).toEqual((await lib.getRun(whole.runId)).events);
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
