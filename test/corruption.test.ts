import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Library } from '../core/library/library.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { tempDir } from './helpers/tmp.js';
import { damagedLibraryCopies } from './helpers/mutate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/**
 * Reads a whole library in a child process (a damaged file must not be able to take the test
 * runner down) and prints `ok N` or the one line a user would see.
 */
function readWholeLibrary(dir: string): { code: number | null; out: string } {
  const library = pathToFileURL(path.join(root, 'dist', 'core', 'library', 'library.js')).href;
  const errors = pathToFileURL(path.join(root, 'dist', 'core', 'errors.js')).href;
  const script = `
    const { Library } = await import(${JSON.stringify(library)});
    const { firstLine } = await import(${JSON.stringify(errors)});
    try {
      const n = await Library.with(${JSON.stringify(dir)}, async (lib) => {
        const runs = await lib.listRuns();
        for (const r of runs) { await lib.getRun(r.id); await lib.getMetrics(r.id); await lib.getSpectra(r.id); await lib.getStepNorms(r.id); }
        return runs.length;
      });
      console.log('ok ' + n);
    } catch (err) { console.log(firstLine(err)); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

describe('a damaged library', () => {
  it('is named as damaged, never as locked, wherever its bytes are flipped (20 places)', async () => {
    const good = path.join(tmp.dir, 'good');
    for (let i = 0; i < 3; i++) await makeFixtureRun(good, { id: `run-${i}`, salt: i });
    expect(await Library.with(good, async (lib) => (await lib.listRuns()).length)).toBe(3);
    const outcomes: string[] = [];
    for (const { dir, at } of damagedLibraryCopies(good, tmp.dir, 20, Library.dbPath)) {
      const r = readWholeLibrary(dir);
      outcomes.push(`${at}: ${r.out}`);
      expect(r.code, r.out).toBe(0); // no crash of the process reading it
      expect(r.out.split('\n')).toHaveLength(1);
      expect(r.out).not.toMatch(/in use by another process/);
      // Either the flip hit bytes nobody reads, or the user is told which file is damaged and what to do.
      if (!/^ok 3$/.test(r.out)) expect(r.out).toMatch(new RegExp(`library database ${Library.dbPath(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (is damaged|cannot be used)|cannot use library database`));
    }
    // The experiment must have hit data: a check that never saw damage would prove nothing.
    expect(outcomes.filter((o) => /is damaged/.test(o)).length, outcomes.join('\n')).toBeGreaterThan(0);
  }, 120_000);
});
