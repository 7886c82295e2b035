import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../core/library/library.js';
import { importExternal, mapColumn, parseExternalSettings } from '../core/library/external.js';
import { parseCsv, readConfigTable } from '../core/library/config-table.js';
import { RunConfigSchema } from '../core/schema/run-config.js';
import { cmdImport } from '../main/cli/transfer.js';
import { scratchFolders } from './helpers/tmp.js';

const scratch = scratchFolders(afterEach);

describe('external runs from other tools', () => {
  it('maps known column names and keeps the rest', () => {
    expect(mapColumn('val_acc', 'resid.final')).toEqual({ table: 'metrics', field: 'test_acc' });
    expect(mapColumn('Loss', 'resid.final')).toEqual({ table: 'metrics', field: 'train_loss' });
    expect(mapColumn('entropy', 'mlp.hidden')).toEqual({ table: 'probe', probe: 'mlp.hidden' });
    expect(mapColumn('entropy.embed', 'resid.final')).toEqual({ table: 'probe', probe: 'embed' });
    expect(mapColumn('lr', 'resid.final')).toBeNull();
  });

  it('reads a W&B CSV download: prefix dropped, bands ignored, events computed, extras kept', async () => {
    const dir = scratch();
    const csv = path.join(dir, 'wandb_export.csv');
    const lines = ['Step,"grok-7 - train_acc","grok-7 - train_acc__MIN","grok-7 - train_acc__MAX","grok-7 - val_acc","grok-7 - entropy","grok-7 - lr"'];
    for (let s = 0; s <= 2000; s += 100) lines.push(`${s},${Math.min(1, s / 300)},0,1,${s >= 1500 ? 0.99 : 0.05},${0.9 - s / 4000},0.001`);
    lines.push('700,,,,,,'); // a duplicate step with nothing in it (W&B writes these)
    writeFileSync(csv, `${lines.join('\n')}\n`);
    await Library.with(path.join(dir, 'lib'), async (lib) => {
      const out = await importExternal(lib, csv, { task: 'mod-add', arch: 'transformer' });
      const run = await lib.getRun(out.id);
      expect(run.origin).toBe('external');
      expect(run.note).toMatch(/grok-7 - val_acc → test_acc/);
      const m = await lib.getMetrics(out.id);
      expect(m).toHaveLength(21);
      expect(m[7]).toMatchObject({ step: 700, train_acc: 1, test_acc: 0.05 });
      expect(Number.isNaN(m[0].test_loss)).toBe(true);
      expect(m[4].entropy['resid.final']).toBeCloseTo(0.8, 12);
      expect(run.events).toMatchObject({ T_mem: 300, T_grok: 1500 });
      // H̃ = 0.9 − s/4000 < 0.61 from s = 1200 on (persistence 3 evaluations): crossed at 1200.
      expect(run.events?.T_cross).toBe(1200);
      const extra = await lib.getExternalMetrics(out.id);
      expect(new Set(extra.map((e) => e.name))).toEqual(new Set(['lr']));
    });
  });

  it('reads a TensorBoard scalar CSV, naming the value by its tag', async () => {
    const dir = scratch();
    const csv = path.join(dir, 'run_seed0-tag-test_acc.csv');
    writeFileSync(csv, 'Wall time,Step,Value\n1700000000.5,0,0.01\n1700000001.5,50,0.5\n1700000002.5,100,0.97\n');
    await Library.with(path.join(dir, 'lib'), async (lib) => {
      const out = await importExternal(lib, csv);
      expect((await lib.getMetrics(out.id)).map((r) => r.test_acc)).toEqual([0.01, 0.5, 0.97]);
      expect((await lib.getRun(out.id)).events?.T_grok).toBe(100);
    });
  });

  it('reads Parquet, and refuses files without steps or metrics, or with bad steps, in one line', async () => {
    const dir = scratch();
    const libDir = path.join(dir, 'lib');
    const pq = path.join(dir, 'metrics.parquet');
    await Library.with(libDir, async (lib) => {
      await lib.describeQuery(`SELECT 1`);
      // Build a Parquet file with DuckDB itself.
      const csv = path.join(dir, 'src.csv');
      writeFileSync(csv, 'global_step,test_loss,test_acc\n10,2.5,0.1\n20,1.5,0.2\n');
      await lib.copyQueryToParquet(`SELECT * FROM read_csv('${csv}', header = true)`, pq);
      const out = await importExternal(lib, pq);
      expect((await lib.getMetrics(out.id)).map((r) => [r.step, r.test_loss])).toEqual([
        [10, 2.5],
        [20, 1.5],
      ]);
      const before = await lib.tableCounts();
      const bad = async (name: string, content: string, pattern: RegExp): Promise<void> => {
        const f = path.join(dir, name);
        writeFileSync(f, content);
        await expect(importExternal(lib, f)).rejects.toThrow(pattern);
      };
      await bad('nostep.csv', 'time,acc\n1,2\n', /nostep\.csv: no step column .*its columns are time, acc/);
      await bad('nometric.csv', 'step,comment\n1,hello\n', /no numeric metric columns/);
      await bad('negative.csv', 'step,test_acc\n-5,0.1\n', /not non-negative whole numbers/);
      await bad('fraction.csv', 'step,test_acc\n1.5,0.1\n', /not non-negative whole numbers/);
      await bad('twice.csv', 'step,val_acc,test_acc\n1,0.1,0.2\n', /two columns map to the same metric 'test_acc'/);
      await bad('broken.parquet', 'PAR1 nonsense', /broken\.parquet: cannot read it as PARQUET/);
      await bad('notes.txt', 'hi', /\.csv, \.tsv or \.parquet/);
      expect(await lib.tableCounts()).toEqual(before);
    });
  });

  /** A grokking-shaped log: steps 0..last by 100, accuracies, and whatever extra columns `extra` gives per step. */
  const log = (last: number, header = 'step,train_acc,test_acc,entropy', row = (s: number): string => `${s},${Math.min(1, s / 300)},${s >= 1500 ? 0.99 : 0.05},${0.9 - s / 4000}`): string => {
    const lines = [header];
    for (let s = 0; s <= last; s += 100) lines.push(row(s));
    return `${lines.join('\n')}\n`;
  };

  it('stores p, seed, condition, train fraction and the budget (default: the last step) in a valid config, and says in the note what was given', async () => {
    const dir = scratch();
    const csv = path.join(dir, 'torch_run.csv');
    writeFileSync(csv, log(2000));
    await Library.with(path.join(dir, 'lib'), async (lib) => {
      const a = await importExternal(lib, csv, { task: 'mod-add', p: 113, seed: 3, condition: 'mix' });
      const run = await lib.getRun(a.id);
      expect(run.config).toMatchObject({ preset: 'external', task: 'mod-add', p: 113, seed: 3, condition: 'mix', steps: 2000, trainFraction: 0.3 });
      expect(RunConfigSchema.safeParse(run.config).success).toBe(true);
      expect(run.stepsDone).toBe(2000);
      expect(run.note).toMatch(/given at import: task mod-add, p 113, seed 3, condition mix;/);
      expect(run.note).toMatch(/steps 2000: the file's last step/);
      expect(run.note).toMatch(/placeholders from the reference preset: arch, probe, train fraction/);
      // The runs table's own columns agree with the config (lists and pairings read them).
      expect((await lib.listRuns()).find((r) => r.id === a.id)).toMatchObject({ condition: 'mix', seed: 3, task: 'mod-add' });

      const b = await importExternal(lib, csv, { task: 's5', seed: 0, condition: 'norm-matched', steps: 5000, trainFraction: 0.5, arch: 'mlp' });
      const rb = await lib.getRun(b.id);
      expect(rb.config).toMatchObject({ task: 's5', arch: 'mlp', condition: 'norm-matched', steps: 5000, trainFraction: 0.5, normTargetRun: 'unknown' });
      expect(RunConfigSchema.safeParse(rb.config).success).toBe(true);
      expect(rb.note).toMatch(/steps 5000/);
      expect(rb.note).toMatch(/normTargetRun/);
    });
  });

  it('checks settings as typed, naming the flag or column, in one line', () => {
    const flag = (k: string): string => `--${k.replace(/_/g, '-')}`;
    expect(parseExternalSettings({ p: '113', seed: '0', steps: '3000', train_fraction: '0.3', condition: 'mix', require: 'test_acc, entropy' }, flag)).toEqual({
      p: 113,
      seed: 0,
      steps: 3000,
      trainFraction: 0.3,
      condition: 'mix',
      require: ['test_acc', 'entropy'],
    });
    expect(parseExternalSettings({ p: '', seed: ' ' })).toEqual({});
    const refused: [Record<string, string>, RegExp][] = [
      [{ p: '4' }, /^--p must be a prime for mod-add/],
      [{ p: '1' }, /^--p must be a whole number ≥ 2/],
      [{ p: '7.5' }, /^--p must be a whole number \(got '7\.5'\)/],
      [{ task: 's5', p: '7' }, /^--p is the modulus of the Z\/pZ tasks; s5 has none/],
      [{ seed: '-1' }, /^--seed must be a whole number/],
      [{ steps: '0' }, /^--steps must be a whole number ≥ 1/],
      [{ train_fraction: '1' }, /^--train-fraction must be between 0 and 1/],
      [{ train_fraction: 'half' }, /^--train-fraction must be a number/],
      [{ condition: 'matched' }, /^--condition must be one of baseline, mix, norm-matched, logit-matched/],
      [{ task: 'mod-pow' }, /^--task must be one of/],
      [{ require: 'test_acc,accuracy' }, /^--require: 'accuracy' is none of ours/],
      [{ arch: 'mlp', probe: 'attn.out' }, /the mlp has no 'attn\.out' probe/],
    ];
    for (const [raw, pattern] of refused) expect(() => parseExternalSettings(raw, flag)).toThrow(pattern);
  });

  it('reads a config table: quoted cells, relative paths, row lines, unknown columns refused', () => {
    expect(parseCsv('\uFEFFfile,seed\r\n"a, b.csv",1\n\n"multi\nline.csv","2"\n,\n')).toEqual([
      { line: 1, cells: ['file', 'seed'] },
      { line: 2, cells: ['a, b.csv', '1'] },
      { line: 4, cells: ['multi\nline.csv', '2'] },
    ]);
    const dir = scratch();
    const t = path.join(dir, 'runs.csv');
    writeFileSync(t, 'File,Seed,train-fraction\nx.csv,1,\n/abs/y.csv,,0.4\n,3,\nz.csv,1,2,3\n');
    expect(readConfigTable(t)).toEqual([
      { line: 2, file: path.join(dir, 'x.csv'), settings: { seed: '1' } },
      { line: 3, file: '/abs/y.csv', settings: { train_fraction: '0.4' } },
      { line: 4, file: '', settings: { seed: '3' }, error: 'no file named' },
      { line: 5, file: path.join(dir, 'z.csv'), settings: { seed: '1', train_fraction: '2' }, error: '4 cells but the header has 3 columns' },
    ]);
    writeFileSync(t, 'file,sed\nx.csv,1\n');
    expect(() => readConfigTable(t)).toThrow(/^config table runs\.csv: unknown column 'sed' \(columns: file, task, p,/);
    writeFileSync(t, 'path,seed\nx.csv,1\n');
    expect(() => readConfigTable(t)).toThrow(/unknown column 'path'/);
    writeFileSync(t, 'seed\n1\n');
    expect(() => readConfigTable(t)).toThrow(/no 'file' column/);
    writeFileSync(t, 'file\n"x.csv\n');
    expect(() => readConfigTable(t)).toThrow(/quoted field that starts on line 2 is not closed/);
  });

  it('imports a config table row by row: each with its own settings, flags filling empty cells, a bad row failing alone', async () => {
    const dir = scratch();
    const lib = path.join(dir, 'lib');
    mkdirSync(path.join(dir, 'logs'));
    writeFileSync(path.join(dir, 'logs', 'seed1.csv'), log(2000));
    writeFileSync(path.join(dir, 'logs', 'seed2.csv'), log(3000));
    const table = path.join(dir, 'logs', 'runs.csv');
    writeFileSync(table, 'file,seed,condition,steps\nseed1.csv,1,baseline,\nseed2.csv,2,mix,4000\nmissing.csv,3,baseline,\n');
    const err: string[] = [];
    const out: string[] = [];
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((x) => (err.push(String(x)), true));
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((x) => (out.push(String(x)), true));
    let code: number;
    try {
      code = await cmdImport([], { library: lib, configTable: table, p: '59', json: true });
    } finally {
      e.mockRestore();
      o.mockRestore();
    }
    expect(code).toBe(1);
    const failures = err.filter((l) => /import failed/.test(l));
    expect(failures).toEqual(['grokscope: import failed: runs.csv line 4: missing.csv: no such file; nothing from it was imported\n']);
    const result = JSON.parse(out.join('').trim()) as { imported: { id: string; file: string }[]; failed: { file: string; error: string }[] };
    expect(result.imported.map((i) => path.basename(i.file))).toEqual(['seed1.csv', 'seed2.csv']);
    expect(result.failed).toEqual([{ file: path.join(dir, 'logs', 'missing.csv'), error: 'runs.csv line 4: missing.csv: no such file' }]);
    await Library.with(lib, async (l) => {
      const runs = await l.getRuns(result.imported.map((i) => i.id));
      expect(runs.map((r) => [r.config.seed, r.config.condition, r.config.p, r.config.steps])).toEqual([
        [1, 'baseline', 59, 2000],
        [2, 'mix', 59, 4000],
      ]);
      expect(await l.listRuns()).toHaveLength(2);
    });
    // A bad cell fails its row (named), not the table; a flag that is bad stops everything first.
    writeFileSync(table, 'file,p\nseed1.csv,4\n');
    const err2: string[] = [];
    const e2 = vi.spyOn(process.stderr, 'write').mockImplementation((x) => (err2.push(String(x)), true));
    const o2 = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await cmdImport([], { library: lib, configTable: table })).toBe(1);
      await expect(cmdImport([], { library: lib, configTable: table, seed: 'x' })).rejects.toThrow(/^--seed must be a whole number \(got 'x'\)$/);
      await expect(cmdImport([path.join(dir, 'logs', 'seed1.csv')], { library: lib, p: '97' })).rejects.toThrow(/^--p is for --external \(or --config-table\) imports$/);
    } finally {
      e2.mockRestore();
      o2.mockRestore();
    }
    expect(err2).toEqual(['grokscope: import failed: runs.csv line 2: seed1.csv: p must be a prime for mod-add, as for our runs (got 4); nothing from it was imported\n']);
    await Library.with(lib, async (l) => expect(await l.listRuns()).toHaveLength(2));
  });

  it('refuses, in one line and leaving the library as it was, a file that lacks what it is told to have', async () => {
    const dir = scratch();
    await Library.with(path.join(dir, 'lib'), async (lib) => {
      const first = path.join(dir, 'ok.csv');
      writeFileSync(first, log(500));
      await importExternal(lib, first);
      const before = await lib.tableCounts();
      const refuse = async (name: string, content: string, opts: Parameters<typeof importExternal>[2], pattern: RegExp): Promise<void> => {
        const f = path.join(dir, name);
        writeFileSync(f, content);
        const err = await importExternal(lib, f, opts).then(
          () => null,
          (x: Error) => x,
        );
        expect(err?.message).toMatch(pattern);
        expect(err?.message).not.toMatch(/\n/);
      };
      await refuse('lronly.csv', 'step,lr\n0,0.001\n100,0.001\n', {}, /^lronly\.csv: no accuracy column .*nothing of ours to analyse; its columns map to: lr → extra 'lr'$/);
      await refuse('lossonly.csv', log(500, 'step,loss', (s) => `${s},${1 / (s + 1)}`), {}, /no accuracy column/);
      await refuse('embed.csv', log(500, 'step,test_acc,entropy.embed', (s) => `${s},0.5,0.7`), { probe: 'resid.final' }, /^embed\.csv: probe 'resid\.final' was given but no entropy column maps to it; its columns map to: test_acc → test_acc, entropy\.embed → entropy\.embed$/);
      await refuse('noentropy.csv', log(500, 'step,test_acc', (s) => `${s},0.5`), { require: ['test_acc', 'entropy'] }, /^noentropy\.csv: required entropy is missing/);
      await refuse('notrain.csv', log(500, 'step,test_acc,entropy', (s) => `${s},0.5,0.7`), { require: ['train_acc'] }, /required train_acc is missing/);
      await refuse('multi.csv', log(500), { metric: 'test_acc' }, /^multi\.csv: metric name 'test_acc' was given, but .* this one has 3 \(train_acc, test_acc, entropy\)$/);
      await refuse('short.csv', log(2000), { steps: 1000 }, /^short\.csv: steps 1000 is below its last step 2000/);
      await refuse('zero.csv', 'step,test_acc\n0,0.01\n', {}, /its only step is 0: give the training budget/);
      await refuse('badp.csv', log(500), { p: 91 }, /^badp\.csv: p must be a prime for mod-add/);
      // A column that is there but empty does not count.
      const pq = path.join(dir, 'empty.parquet');
      await lib.copyQueryToParquet('SELECT range AS step, CAST(NULL AS DOUBLE) AS test_acc, 0.5 AS test_loss FROM range(3)', pq);
      const err = await importExternal(lib, pq).catch((x: Error) => x);
      expect((err as Error).message).toBe('empty.parquet: its accuracy column (test_acc) holds no values');
      expect(await lib.tableCounts()).toEqual(before);
      // --metric names the one value column, whatever its header.
      const single = path.join(dir, 'single.csv');
      writeFileSync(single, 'step,acc\n0,0.1\n100,0.97\n');
      const s = await importExternal(lib, single, { metric: 'test_acc' });
      expect((await lib.getMetrics(s.id)).map((r) => r.test_acc)).toEqual([0.1, 0.97]);
    });
  });

  it('never replaces a run: importing the same file again adds a second run beside the first', async () => {
    const dir = scratch();
    const csv = path.join(dir, 'again.csv');
    writeFileSync(csv, log(1000));
    await Library.with(path.join(dir, 'lib'), async (lib) => {
      const a = await importExternal(lib, csv, { seed: 1 });
      const metricsA = await lib.getMetrics(a.id);
      const b = await importExternal(lib, csv, { seed: 2 });
      const c = await importExternal(lib, csv, { seed: 3 });
      expect(a.id).toBe('ext-again');
      expect(b.id).toMatch(/^ext-again-[0-9a-f]{6}$/);
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      expect((await lib.listRuns()).map((r) => [r.id, r.seed])).toEqual(
        expect.arrayContaining([
          [a.id, 1],
          [b.id, 2],
          [c.id, 3],
        ]),
      );
      expect(await lib.getMetrics(a.id)).toEqual(metricsA);
      expect(await lib.getMetrics(b.id)).toEqual(metricsA);
    });
  });
});
