import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';
import { Library } from '../core/library/library.js';
import { createTrainingPool } from '../core/runs/pool.js';
import { runStudy } from '../core/study/runner.js';
import { planRuns, resolveStudySpec } from '../core/study/spec.js';
import { analyzeLibraryRuns } from '../core/study/analyze-runs.js';

/**
 * A study's runs trained in two libraries (each a part), exported compact (`export --study NAME
 * --compact`), imported into a third, take their places in the study there, and `analyze --study`
 * over them gives the summary of one library that trained the whole study, saying how many of the
 * planned runs it covers.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'grokscope.js');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const spec = resolveStudySpec({
  name: 'merge',
  preset: 'fast',
  overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 100, evalEvery: 10, spectrumEvery: 50, lr: 0.01 },
  tasks: ['mod-add'],
  archs: ['transformer'],
  conditions: ['baseline'],
  seeds: [0, 1],
  earlyStopEvals: 0,
});
const lib = (name: string): string => path.join(tmp.dir, name);

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp.dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** summary.json without what names a run or a folder (ids differ between libraries). */
function canonical(file: string): unknown {
  const strip = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(strip);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([k]) => !['id', 'runId', 'runIds'].includes(k)).map(([k, v]) => [k, strip(v)]));
    return x;
  };
  return strip(JSON.parse(readFileSync(file, 'utf8')));
}

describe('a study merged from several libraries', () => {
  it('exports each part compact, imports both into a third library and analyses it as one library that trained it all', async () => {
    const plan = planRuns(spec);
    const pool = createTrainingPool(1);
    try {
      // Two machines, a seed each (the share a queue worker trains), and one that trains it all.
      await runStudy({ spec, libraryDir: lib('a'), pool, only: new Set(plan.filter((r) => r.config.seed === 0).map((r) => r.key)) });
      await runStudy({ spec, libraryDir: lib('b'), pool, only: new Set(plan.filter((r) => r.config.seed === 1).map((r) => r.key)) });
      const whole = await runStudy({ spec, libraryDir: lib('whole'), pool });
      expect(whole.every((r) => r.status === 'completed')).toBe(true);
    } finally {
      await pool.destroy();
    }

    for (const part of ['a', 'b']) {
      const r = cli(['export', '--study', 'merge', '--compact', '-o', `${part}.grokbundle`, '--library', lib(part), '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim()).runs).toHaveLength(1);
    }
    // Compact: no checkpoints, no spectra or per-tensor norms (their files are there, empty).
    const listing = spawnSync('unzip', ['-l', path.join(tmp.dir, 'a.grokbundle')], { encoding: 'utf8' }).stdout;
    if (listing) expect(listing).not.toMatch(/checkpoints\//);
    await Library.with(lib('a'), async (l) => expect(await l.getRuns([...(await l.getStudyRuns('merge')).values()])).toHaveLength(1));

    const one = cli(['import', 'a.grokbundle', '--library', lib('merged')]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/a\.grokbundle: study merge: 1 run\(s\) added to it; it now holds 1 of 2 planned runs completed/);
    const partial = await analyzeLibraryRuns(lib('merged'), { study: 'merge' }, path.join(tmp.dir, 'analysis-partial'));
    expect([partial.runs, partial.planned]).toEqual([1, 2]);

    const two = cli(['import', 'b.grokbundle', 'a.grokbundle', '--library', lib('merged')]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/b\.grokbundle: study merge: 1 run\(s\) added to it; it now holds 2 of 2 planned runs completed/);
    await Library.with(lib('merged'), async (l) => {
      const runs = await l.getRuns([...(await l.getStudyRuns('merge')).values()]);
      expect(runs.map((r) => r.status)).toEqual(['completed', 'completed']);
      expect(runs.every((r) => r.tags.includes('compact-export'))).toBe(true);
      expect((await l.listStudies()).find((s) => s.id === 'merge')!.status).toBe('completed');
    });

    const merged = cli(['analyze', '--study', 'merge', '--library', lib('merged'), '--out', 'analysis-merged']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout.split('\n')[0]).toMatch(/\(2 of 2 planned runs\)$/);
    const single = await analyzeLibraryRuns(lib('whole'), { study: 'merge' }, path.join(tmp.dir, 'analysis-whole'));
    expect([single.runs, single.planned]).toEqual([2, 2]);
    // The same summary: verdicts, counts, events, onset, forecast; only the runs' ids differ.
    expect(canonical(path.join(tmp.dir, 'analysis-merged', 'summary.json'))).toEqual(canonical(path.join(tmp.dir, 'analysis-whole', 'summary.json')));
  }, 120_000);
});
