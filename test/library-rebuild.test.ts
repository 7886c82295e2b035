import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { loadBlas } from '../core/train/host/blas.js';
import { executeRun } from '../core/runs/run-executor.js';
import { Library } from '../core/library/library.js';
import { checkLibrary, rebuildLibrary, savedRunFile } from '../core/library/archive.js';
import { poolAndLibrary } from './helpers/pool.js';
import { damagedLibraryCopies } from './helpers/mutate.js';

/**
 * The library as an index over files (core/library/archive.ts): completed runs are kept as saved
 * runs beside the database; `library check` reads everything and never misnames damage; `library
 * rebuild` sets a damaged database aside and recovers every completed run with identical metrics.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'grokscope.js');
const backend = loadBlas() instanceof Error ? 'wasm' : 'wasm+openblas';
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 40, evalEvery: 10, spectrumEvery: 20, backend });
const ctx = poolAndLibrary(beforeAll, afterAll);
const good = path.join(ctx.dir, 'good');
let ids: string[] = [];

async function contents(dir: string, runIds: string[]) {
  return Library.with(dir, async (lib) =>
    Promise.all(runIds.map(async (id) => ({ run: await lib.getRun(id), metrics: await lib.getMetrics(id), spectra: await lib.getSpectra(id), norms: Array.from(await lib.getStepNorms(id)) }))),
  );
}

beforeAll(async () => {
  const pool = ctx.pool;
  for (const seed of [1, 2]) ids.push((await executeRun({ libraryDir: good, pool, config: { ...tiny, seed } })).runId);
  // A run that did not complete has no saved run (and a rebuild cannot bring it back).
  await executeRun({ libraryDir: good, pool, config: { ...tiny, seed: 3 }, stopAtStep: 10 });
});

describe('saved runs beside the database', () => {
  it('are written for every completed run, and a check of a sound library finds nothing', async () => {
    for (const id of ids) expect(existsSync(savedRunFile(good, id)), id).toBe(true);
    const c = await checkLibrary(good);
    expect(c.ok).toBe(true);
    expect(c.savedRuns).toMatchObject({ checked: 2, damaged: [], missing: [] });
    expect(c.database.rows!.runs).toBe(3);
  });

  it('names a tampered saved run and a missing one', async () => {
    const dir = path.join(ctx.dir, 'tampered');
    cpSync(good, dir, { recursive: true });
    const file = savedRunFile(dir, ids[0]);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(file, bytes);
    rmSync(savedRunFile(dir, ids[1]));
    const r = spawnSync(process.execPath, [bin, 'library', 'check', '--library', dir], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`damaged: ${ids[0]}\\.grokrun: `));
    expect(r.stdout).toContain(`missing: ${ids[1]} (export it again: grokscope export ${ids[1]} -o `);
  });
});

describe('a damaged database', () => {
  it('is never misdiagnosed (20 places flipped), and a rebuild recovers every completed run exactly', async () => {
    const want = await contents(good, ids);
    let damaged = 0;
    for (const { dir, at } of damagedLibraryCopies(good, ctx.dir, 20, Library.dbPath)) {
      // The check reads the damaged file in its own process: damage must not take the runner down.
      const r = spawnSync(process.execPath, [bin, 'library', 'check', '--library', dir, '--json'], { encoding: 'utf8', timeout: 60_000 });
      expect([0, 1], `${at}: ${r.stderr}`).toContain(r.status);
      const c = JSON.parse(r.stdout.trim().split('\n').pop()!) as Awaited<ReturnType<typeof checkLibrary>>;
      expect(c.database.error ?? '').not.toMatch(/in use by another process/);
      if (!c.database.ok) {
        damaged++;
        expect(c.database.error, `${at}`).toMatch(/is damaged|cannot be used|cannot use library database/);
        expect(r.status).toBe(1);
      }
      const report = await rebuildLibrary(dir);
      expect(report.failed).toEqual([]);
      expect(report.imported.sort()).toEqual([...ids].sort());
      expect(existsSync(report.setAside!)).toBe(true);
      const got = await contents(dir, ids);
      for (let i = 0; i < ids.length; i++) {
        expect(got[i].metrics, `${at}: ${ids[i]}`).toEqual(want[i].metrics);
        expect(got[i].spectra).toEqual(want[i].spectra);
        expect(got[i].norms).toEqual(want[i].norms);
        expect(got[i].run.events).toEqual(want[i].run.events);
        expect(got[i].run.config).toEqual(want[i].run.config);
      }
    }
    // The experiment must have hit data: a check that never saw damage would prove nothing.
    expect(damaged).toBeGreaterThan(0);
  }, 240_000);

  it('refuses to rebuild from a folder without saved runs, and changes nothing', async () => {
    const dir = path.join(ctx.dir, 'empty-from');
    cpSync(good, dir, { recursive: true });
    const r = spawnSync(process.execPath, [bin, 'library', 'rebuild', '--library', dir, '--from', path.join(ctx.dir, 'nowhere')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^grokscope: no saved runs \(\*\.grokrun\) in .*nowhere: nothing to rebuild from$/);
    expect(existsSync(Library.dbPath(dir))).toBe(true);
  });

  it('keeps saved runs of runs imported from a saved run, and a rebuild brings them back', async () => {
    const dir = path.join(ctx.dir, 'imports');
    const r = spawnSync(process.execPath, [bin, 'import', savedRunFile(good, ids[0]), '--library', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(savedRunFile(dir, ids[0]))).toBe(true);
    expect((await checkLibrary(dir)).ok).toBe(true);
    const want = await contents(dir, [ids[0]]);
    const rebuilt = await rebuildLibrary(dir);
    expect(rebuilt.imported).toEqual([ids[0]]);
    const got = await contents(dir, [ids[0]]);
    expect(got[0].metrics).toEqual(want[0].metrics);
    expect(got[0].run.config).toEqual(want[0].run.config);
  });

  it('a rebuild from another folder keeps saved runs of what it brought in', async () => {
    const dir = path.join(ctx.dir, 'from-elsewhere');
    const rebuilt = await rebuildLibrary(dir, path.join(good, 'saved-runs'));
    expect(rebuilt.failed).toEqual([]);
    expect(rebuilt.imported.sort()).toEqual([...ids].sort());
    const c = await checkLibrary(dir);
    expect(c.ok).toBe(true);
    expect(c.savedRuns.checked).toBe(2);
  });
});
