import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../core/library/library.js';
import { importExternal, mapColumn } from '../core/library/external.js';
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
      writeFileSync(csv, 'global_step,test_loss\n10,2.5\n20,1.5\n');
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
});
