import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expectCleanError, lastJson, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const libA = path.join(tmp.dir, 'a');
const libB = path.join(tmp.dir, 'b');

const tiny = ['--p', '11', '--d-model', '16', '--heads', '2', '--d-mlp', '32', '--lr', '0.01', '--steps', '60', '--eval-every', '10', '--seed', '1'];

describe('grokscope export / import / reproduce', () => {
  it('moves a mix + norm-matched pair between libraries and reproduces it bit for bit', () => {
    const mix = lastJson(runCli(['run', ...tiny, '--condition', 'mix', '--json', '--library', libA]).stdout) as { id: string; status: string };
    expect(mix.status).toBe('completed');
    const nm = lastJson(runCli(['run', ...tiny, '--condition', 'norm-matched', '--norm-target', mix.id, '--json', '--library', libA]).stdout) as { id: string; status: string };
    expect(nm.status).toBe('completed');

    const bundle = path.join(tmp.dir, 'pair.grokbundle');
    const ex = runCli(['export', nm.id, '-o', bundle, '--json', '--library', libA]);
    expect(ex.code).toBe(0);
    expect(ex.stderr).toMatch(/added .*norm-matched run in the bundle replays its weight norm/);
    expect(lastJson(ex.stdout)).toMatchObject({ kind: 'grokbundle', runs: [mix.id, nm.id] });

    const im = runCli(['import', bundle, '--json', '--library', libB]);
    expect(im.code).toBe(0);
    expect((lastJson(im.stdout) as { imported: { id: string; action: string }[] }).imported.map((i) => [i.id, i.action])).toEqual([
      [mix.id, 'imported'],
      [nm.id, 'imported'],
    ]);
    const shownA = lastJson(runCli(['show', nm.id, '--json', '--library', libA]).stdout) as { metrics: unknown[] };
    const shownB = lastJson(runCli(['show', nm.id, '--json', '--library', libB]).stdout) as { metrics: unknown[] };
    expect(shownB.metrics).toEqual(shownA.metrics);
    const again = runCli(['import', bundle, '--json', '--library', libB]);
    expect((lastJson(again.stdout) as { imported: { action: string }[] }).imported.map((i) => i.action)).toEqual(['unchanged', 'unchanged']);

    const rep = runCli(['reproduce', bundle, '--workers', '1', '--json']);
    expect(rep.code).toBe(0);
    const runs = (lastJson(rep.stdout) as { runs: { id: string; verdict: string; match: boolean }[] }).runs;
    expect(runs.map((r) => [r.id, r.verdict, r.match])).toEqual([
      [mix.id, 'identical', true],
      [nm.id, 'identical', true],
    ]);
  });

  it('refuses bad files in one line, and a .grokrun of several runs', () => {
    const bad = path.join(tmp.dir, 'bad.grokrun');
    writeFileSync(bad, 'not a zip');
    const r = runCli(['import', bad, '--library', libB]);
    expectCleanError(r, /import failed: bad\.grokrun: not a readable zip archive.*nothing from it was imported/);
    expectCleanError(runCli(['export', 'x', '-o', path.join(tmp.dir, 'x.zip'), '--library', libB]), /must end in \.grokrun .* or \.grokbundle/);
    expectCleanError(runCli(['export', 'x', '--library', libB]), /export needs -o/);
    const ids = (lastJson(runCli(['list', '--json', '--library', libB]).stdout) as { id: string }[]).map((x) => x.id);
    expectCleanError(runCli(['export', ...ids, '-o', path.join(tmp.dir, 'two.grokrun'), '--library', libB]), /a \.grokrun holds one run; 2 were given/);
    expectCleanError(runCli(['reproduce', path.join(tmp.dir, 'missing.grokbundle')]), /no such bundle/);
    expect(readFileSync(bad, 'utf8')).toBe('not a zip');
  });
});
