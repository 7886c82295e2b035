import { afterEach, describe, expect, it } from 'vitest';
import { LibraryDb } from '../core/library/db.js';
import { setStudyRun, upsertStudy } from '../core/library/studies.js';
import { PRESETS } from '../core/schema/run-config.js';
import { orderedConfig, presetDiff } from '../core/service/preset-diff.js';
import { GrokscopeService } from '../core/service/service.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { runCli } from './helpers/cli.js';
import { scratchFolders } from './helpers/tmp.js';

/**
 * A run's configuration made visible (issue 35, item 4): the library list carries p, lr, weight
 * decay, train fraction and study of every run; a run's detail says how it departs from its preset.
 */
const folder = scratchFolders(afterEach);

/** Point studies' plans at runs, each study created at the given time (the tie-breaking rule reads it). */
async function tieToStudies(dir: string, ties: { study: string; createdAt: string; runs: string[] }[]): Promise<void> {
  const db = await LibraryDb.open(dir);
  try {
    for (const t of ties) {
      await upsertStudy(db, t.study, JSON.stringify({ name: t.study }), 'completed');
      await db.con.run(`UPDATE studies SET created_at = '${t.createdAt}' WHERE id = '${t.study}'`);
      for (const [i, run] of t.runs.entries()) await setStudyRun(db, t.study, `key-${i}`, run);
    }
  } finally {
    db.close();
  }
}

describe('configuration in the library list', () => {
  it('gives each run its p, lr, weight decay, train fraction and study, from its config', async () => {
    const dir = folder();
    await makeFixtureRun(dir, { id: 'base-0', config: { seed: 0 } });
    await makeFixtureRun(dir, { id: 'wd0', config: { seed: 1, weightDecay: 0, lr: 0.0025 } });
    await makeFixtureRun(dir, { id: 'in-study', config: { seed: 2, p: 47, trainFraction: 0.35 } });
    await makeFixtureRun(dir, { id: 's5-run', config: { ...PRESETS.s5, seed: 0 } });
    await tieToStudies(dir, [{ study: 'tiny', createdAt: '2026-12-01T00:00:00.000Z', runs: ['in-study'] }]);
    const list = await new GrokscopeService(dir, null).listRuns();
    const pick = (id: string) => {
      const r = list.find((x) => x.id === id)!;
      return { p: r.p, lr: r.lr, weightDecay: r.weightDecay, trainFraction: r.trainFraction, study: r.study };
    };
    expect(pick('base-0')).toEqual({ p: PRESETS.fast.p, lr: PRESETS.fast.lr, weightDecay: PRESETS.fast.weightDecay, trainFraction: PRESETS.fast.trainFraction, study: null });
    expect(pick('wd0')).toEqual({ p: PRESETS.fast.p, lr: 0.0025, weightDecay: 0, trainFraction: PRESETS.fast.trainFraction, study: null });
    expect(pick('in-study')).toEqual({ p: 47, lr: PRESETS.fast.lr, weightDecay: PRESETS.fast.weightDecay, trainFraction: 0.35, study: 'tiny' });
    // S5 has no modulus: its config's placeholder p is not shown as one.
    expect(pick('s5-run')).toMatchObject({ p: null, lr: PRESETS.s5.lr });
  });

  it('a run two studies name belongs to the one created first, whatever their names', async () => {
    const dir = folder();
    await makeFixtureRun(dir, { id: 'shared' });
    await makeFixtureRun(dir, { id: 'only-alpha', config: { seed: 4 } });
    await tieToStudies(dir, [
      { study: 'zeta', createdAt: '2026-12-01T00:00:00.000Z', runs: ['shared'] },
      { study: 'alpha', createdAt: '2026-12-02T00:00:00.000Z', runs: ['shared', 'only-alpha'] },
    ]);
    const service = new GrokscopeService(dir, null);
    const list = await service.listRuns();
    expect(Object.fromEntries(list.map((r) => [r.id, r.study]))).toEqual({ shared: 'zeta', 'only-alpha': 'alpha' });
    expect((await service.getRun('shared', { forecast: false, spectra: false })).study).toBe('zeta');
    expect((await service.getRun('only-alpha', { forecast: false, spectra: false })).study).toBe('alpha');
  });
});

describe('a run against its preset', () => {
  it('getRun lists the fields that differ from the named preset, with both values, and the run’s study', async () => {
    const dir = folder();
    await makeFixtureRun(dir, { id: 'wd0', config: { seed: 7, weightDecay: 0, lr: 0.0025, temperature: 1 } });
    await makeFixtureRun(dir, { id: 'base', config: { seed: 8 } });
    await tieToStudies(dir, [{ study: 'wd-sweep', createdAt: '2026-12-01T00:00:00.000Z', runs: ['wd0'] }]);
    const service = new GrokscopeService(dir, null);
    const wd0 = await service.getRun('wd0', { forecast: false, spectra: false });
    // The seed differs from the preset's 0 but is a replicate, not a setting; temperature 1 is what its absence means.
    expect(wd0.presetDiff).toEqual([
      { field: 'lr', value: 0.0025, preset: PRESETS.fast.lr },
      { field: 'weightDecay', value: 0, preset: PRESETS.fast.weightDecay },
    ]);
    expect(wd0.study).toBe('wd-sweep');
    expect(wd0.config.seed).toBe(7);
    const base = await service.getRun('base', { forecast: false, spectra: false });
    expect(base.presetDiff).toEqual([]);
    expect(base.study).toBeNull();
    // `grokscope show` says the same: its study and what makes it unlike its preset.
    const shown = runCli(['show', 'wd0', '--library', dir]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^study {6}wd-sweep$/m);
    expect(shown.stdout).toMatch(/^unlike {5}fast: lr 0\.0025 \(preset 0\.003\), weightDecay 0 \(preset 1\)$/m);
    expect(runCli(['show', 'base', '--library', dir]).stdout).not.toMatch(/^(study|unlike) /m);
  });

  it('orders fields as the schema does, counts fields the preset or the run lacks, and knows no unnamed preset', () => {
    const cfg: Record<string, unknown> = { ...PRESETS.quick, initScale: 4, arch: 'mlp', seed: 3, splitSeed: 9 };
    delete cfg.fourierK;
    expect(presetDiff(cfg)).toEqual([
      { field: 'arch', value: 'mlp', preset: 'transformer' },
      { field: 'initScale', value: 4, preset: 1 },
      { field: 'fourierK', value: null, preset: PRESETS.quick.fourierK },
    ]);
    const rest: Record<string, unknown> = { ...PRESETS.quick };
    delete rest.preset;
    expect(presetDiff(rest)).toBeNull();
    expect(presetDiff({ ...PRESETS.reference, preset: 'external' })).toBeNull();
    expect(presetDiff({ ...PRESETS.quick, preset: 'toString' })).toBeNull();
    // Stored in another order, shown in the schema's; a field the schema does not know comes last.
    const shuffled = Object.fromEntries([...Object.entries({ ...PRESETS.quick, zzLegacy: 1 })].reverse());
    const keys = Object.keys(orderedConfig(shuffled));
    expect(keys.slice(0, 4)).toEqual(['preset', 'task', 'p', 'trainFraction']);
    expect(keys.at(-1)).toBe('zzLegacy');
  });
});
