import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { LiveEvent } from '../core/api.js';
import { GrokscopeService } from '../core/service/service.js';
import { createTrainingPool } from '../core/runs/pool.js';
import { PRESETS } from '../core/schema/run-config.js';
import { tempDir } from './helpers/tmp.js';

/**
 * startRun with `seeds` (the run form's seed range): one run per seed, as `grokscope run --seeds`,
 * each with every setting of the request; problems come back as "seeds: …" for the form's field.
 */
const tmp = tempDir();
const pool = createTrainingPool(1);
afterAll(async () => {
  await pool.destroy();
  tmp.cleanup();
});

const tiny = { preset: 'fast', p: 7, dModel: 8, nHeads: 2, dMlp: 16, steps: 20, evalEvery: 10, checkpointEvery: 10, backend: 'wasm' };

describe('startRun with a seed range', () => {
  it('launches one run per seed with the request’s settings', async () => {
    const service = new GrokscopeService(path.join(tmp.dir, 'lib'), pool);
    const finished = new Set<string>();
    let resolveAll!: () => void;
    const allDone = new Promise<void>((r) => (resolveAll = r));
    service.subscribe((e: LiveEvent) => {
      if (e.type !== 'run-finished') return;
      finished.add(e.id);
      if (finished.size === 3) resolveAll();
    });
    const { id } = await service.startRun({ ...tiny, seeds: '2-3,7', initScale: 1.5, earlyStopEvals: 1, spectrumEvery: 20 });
    await allDone;
    const runs = await service.listRuns();
    expect(runs.map((r) => r.seed).sort()).toEqual([2, 3, 7]);
    expect(runs.map((r) => r.id)).toContain(id);
    for (const r of runs) {
      const detail = await service.getRun(r.id, { forecast: false, spectra: false });
      expect(detail.config).toMatchObject({ initScale: 1.5, earlyStopEvals: 1, spectrumEvery: 20, p: 7, preset: 'fast', lr: PRESETS.fast.lr });
    }
  }, 60_000);

  it('refuses a seed list it cannot read, and seed with seeds, naming the field', async () => {
    const service = new GrokscopeService(path.join(tmp.dir, 'lib2'), pool);
    await expect(service.dispatch('startRun', [{ ...tiny, seeds: '0-x' }])).rejects.toThrow(/^invalid run: seeds: expects seeds like 0-4 or 0,3,7 \(got '0-x'\)$/);
    await expect(service.dispatch('startRun', [{ ...tiny, seeds: '5-1' }])).rejects.toThrow(/seeds: the range 5-1 runs backwards/);
    await expect(service.dispatch('startRun', [{ ...tiny, seed: 1, seeds: '0-1' }])).rejects.toThrow(/seeds: give either seed or seeds/);
    await expect(service.dispatch('startRun', [{ ...tiny, seeds: '0-1', mixForm: 'nope' }])).rejects.toThrow(/invalid run: mixForm: /);
    expect(await service.listRuns()).toEqual([]);
  });
});
