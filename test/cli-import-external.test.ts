import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../core/library/library.js';
import { expectCleanError, lastJson, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('grokscope import --external with run settings', () => {
  it('stores the flags and a config table’s rows in the runs, and refuses bad flags and files in one line', async () => {
    const library = path.join(tmp.dir, 'lib');
    const log = (last: number): string => ['step,train_acc,val_acc', ...Array.from({ length: last / 100 + 1 }, (_x, i) => `${i * 100},${Math.min(1, i / 3)},${i >= 15 ? 0.99 : 0.05}`)].join('\n');
    writeFileSync(path.join(tmp.dir, 'a.csv'), log(2000));
    writeFileSync(path.join(tmp.dir, 'b.csv'), log(1000));
    writeFileSync(path.join(tmp.dir, 'table.csv'), 'file,seed,condition\nb.csv,7,mix\nnowhere.csv,8,baseline\n');

    const r = runCli(['import', '--external', path.join(tmp.dir, 'a.csv'), '--p', '113', '--seed', '4', '--condition', 'mix', '--train-fraction', '0.3', '--json', '--library', library]);
    expect(r.code).toBe(0);
    const a = (lastJson(r.stdout) as { imported: { id: string }[] }).imported[0].id;
    const t = runCli(['import', '--config-table', path.join(tmp.dir, 'table.csv'), '--p', '59', '--json', '--library', library]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^grokscope: import failed: table\.csv line 3: nowhere\.csv: no such file; nothing from it was imported$/m);
    const b = (lastJson(t.stdout) as { imported: { id: string }[] }).imported[0].id;
    const [runA, runB] = await Library.with(library, (lib) => lib.getRuns([a, b]));
    expect(runA.config).toMatchObject({ p: 113, seed: 4, condition: 'mix', trainFraction: 0.3, steps: 2000 });
    expect(runB.config).toMatchObject({ p: 59, seed: 7, condition: 'mix', steps: 1000 });

    expectCleanError(runCli(['import', '--external', path.join(tmp.dir, 'a.csv'), '--p', '100', '--library', library]), /^grokscope: --p must be a prime for mod-add/);
    expectCleanError(runCli(['import', '--external', path.join(tmp.dir, 'a.csv'), '--require', 'entropy', '--library', library]), /import failed: a\.csv: required entropy is missing; its columns map to: .*nothing from it was imported/);
    expect((lastJson(runCli(['list', '--json', '--library', library]).stdout) as unknown[]).length).toBe(2);
  });
});
