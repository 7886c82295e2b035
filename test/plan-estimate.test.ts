import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { GrokscopeService } from '../core/service/service.js';
import { createTrainingPool } from '../core/runs/pool.js';
import { ShapeRates } from '../core/service/shape-rate.js';
import { PRESETS, type RunConfig } from '../core/schema/run-config.js';
import { tempDir } from './helpers/tmp.js';

/**
 * A study's time estimate where the library has no completed run of its shape: a short run of
 * the shape is measured on this machine (in a child process, the compiled
 * dist/core/service/shape-rate-child.js), once per shape, and the basis says so.
 */
const tmp = tempDir();
const pool = createTrainingPool(1);
afterAll(async () => {
  await pool.destroy();
  tmp.cleanup();
});

/** A shape small enough that the measurement is mostly the child's start. */
const tiny = { p: 7, dModel: 8, nHeads: 2, dMlp: 16, steps: 300, evalEvery: 10, spectrumEvery: 100, checkpointEvery: 100, backend: 'wasm' };
const spec = { name: 'tiny', preset: 'fast', overrides: tiny, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1] };

describe('a study estimate in an empty library', () => {
  it('measures a short run of the shape on this machine, says so, and estimates from it without measuring again', async () => {
    const service = new GrokscopeService(path.join(tmp.dir, 'empty'), pool);
    const first = await service.planStudy(spec);
    // Answered at once, naming the shape it measures.
    expect(first).toMatchObject({ name: 'tiny', runs: 2, totalSteps: 600, seconds: null, measuring: ['transformer d=8 mlp=16 p=7'] });
    expect(first.basis).toMatch(/^measuring a short run of transformer d=8 mlp=16 p=7 on this machine/);
    const second = await service.planStudy(spec);
    expect(second.measuring).toBeUndefined();
    expect(second.seconds).toBeGreaterThan(0);
    const basis = /^from transformer d=8 mlp=16 p=7: measured (\d+) steps of this shape on this machine now \(wasm\): ([\d.]+) ms\/step( \+ ([\d.]+) ms per evaluation|, evaluations not counted), over 1 worker\b/.exec(second.basis);
    expect(basis, second.basis).not.toBeNull();
    expect(Number(basis![1])).toBeGreaterThanOrEqual(8);
    // Twice the seeds, twice the time at the same measured rate: nothing measured again.
    const twice = await service.planStudy({ ...spec, seeds: [0, 1, 2, 3] });
    expect(twice.measuring).toBeUndefined();
    expect(twice.seconds).toBeCloseTo(2 * second.seconds!, 9);
    // Evaluations, where they were timed, count per the run's own interval.
    const sparser = await service.planStudy({ ...spec, overrides: { ...tiny, evalEvery: 20, spectrumEvery: 100 } });
    if (basis![4] !== undefined) expect(sparser.seconds).toBeLessThan(second.seconds!);
    else expect(sparser.seconds).toBeCloseTo(second.seconds!, 9);
  }, 60_000);

  it('measures each shape once, one after another, and keeps a failure rather than measuring on every keystroke', async () => {
    const log: string[] = [];
    let running = 0;
    const rates = new ShapeRates(async (c: RunConfig) => {
      running++;
      log.push(`${c.arch} ${c.condition} ${running}`);
      await new Promise((r) => setImmediate(r));
      running--;
      if (c.arch === 'mlp') throw new Error('no such backend here');
      return { backend: 'wasm', steps: 40, msPerStep: 2, msPerEval: null };
    });
    const tf = { ...PRESETS.fast, condition: 'norm-matched' as const };
    const mlp = { ...PRESETS.fast, arch: 'mlp' as const };
    const asked = rates.request([tf, mlp]);
    expect(asked.started).toEqual(['transformer d=64 mlp=256 p=31', 'mlp d=64 mlp=256 p=31']);
    const got = await asked.rates;
    // One at a time (never two at once), each as a baseline (a matched run needs its mix run's targets).
    expect(log).toEqual(['transformer baseline 1', 'mlp baseline 1']);
    expect(got[0]).toMatchObject({ arch: 'transformer', msPerStep: 2 });
    expect(got[1]).toBeInstanceOf(Error);
    const again = rates.request([mlp, tf]);
    expect(again.started).toEqual([]);
    expect((await again.rates)[0]).toBeInstanceOf(Error);
    expect(log).toHaveLength(2);
  });
});
