import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { PRESETS } from '../core/schema/run-config.js';
import { Library } from '../core/library/library.js';
import { metricsToCsv } from '../core/library/csv.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { scratchFolders } from './helpers/tmp.js';

const require = createRequire(import.meta.url);

function record(step: number, withSpectra = false): EvalRecord {
  return {
    step,
    train_loss: 1 / (step + 1),
    train_acc: Math.min(1, step / 100),
    test_loss: 2 / (step + 1),
    test_acc: step / 1000,
    weight_norm: 10 + step,
    tensor_norms: { embed: 1.5, W_U: 2.5 },
    probes: { 'resid.final': { entropy: 0.9 - step / 1000, eff_rank: 12, top5_share: 0.4 }, embed: { entropy: 0.8, eff_rank: 10, top5_share: 0.5 } },
    fourier: { topk_share: 0.3, gini: 0.2 },
    ...(withSpectra ? { spectra: { 'resid.final': [3, 2, 1] } } : {}),
  };
}

const lib = scratchFolders(afterEach);

describe('run library', () => {
  it('stores every double bit for bit (metrics, per-probe values, spectra)', async () => {
    // Random doubles over many magnitudes: a decimal SQL literal lost an ulp in ~6 % of them.
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 10 ** ((seed % 9) - 5);
    const records = Array.from({ length: 60 }, (_, i) => {
      const r = record(i * 20, i % 10 === 0);
      return { ...r, train_loss: rand(), test_loss: rand(), weight_norm: rand(), probes: { 'resid.final': { entropy: rand(), eff_rank: rand(), top5_share: rand() } }, ...(r.spectra ? { spectra: { 'resid.final': [rand(), rand()] } } : {}) };
    });
    const dir = lib();
    await Library.with(dir, async (l) => {
      const id = await l.createRun({ ...PRESETS.fast, seed: 1 }, { node: 'v20' });
      await l.appendEvals(id, records);
      const rows = await l.getMetrics(id);
      expect(rows.map((r) => [r.train_loss, r.test_loss, r.weight_norm, r.entropy['resid.final'], r.eff_rank['resid.final'], r.top5_share['resid.final']])).toEqual(
        records.map((r) => [r.train_loss, r.test_loss, r.weight_norm, r.probes['resid.final'].entropy, r.probes['resid.final'].eff_rank, r.probes['resid.final'].top5_share]),
      );
      const spectra = await l.getSpectra(id);
      expect(spectra.map((s) => s.eigenvalues)).toEqual(records.filter((r) => r.spectra).map((r) => r.spectra!['resid.final']));
    });
  });

  it('round-trips a run, its metrics, norms and spectra across sessions', async () => {
    const dir = lib();
    const config = { ...PRESETS.fast, seed: 4 };
    const id = await Library.with(dir, async (l) => {
      const id = await l.createRun(config, { node: 'v20' });
      await l.appendEvals(id, [record(0, true), record(20)]);
      await l.appendEvals(id, [record(40)]);
      await l.updateRun(id, { status: 'completed', backend: 'wasm', backendNote: 'test', events: { T_mem: 20, T_grok: null, T_grok_50: null, T_grok_99: null, T_cross: 40, lead: null } });
      return id;
    });
    await Library.with(dir, async (l) => {
      const run = await l.getRun(id);
      expect(run.config).toEqual(config);
      expect(run.status).toBe('completed');
      expect(run.backend).toBe('wasm');
      expect(run.stepsDone).toBe(40);
      expect(run.events?.T_cross).toBe(40);
      const metrics = await l.getMetrics(id);
      expect(metrics.map((m) => m.step)).toEqual([0, 20, 40]);
      expect(metrics[1].entropy['resid.final']).toBeCloseTo(0.88, 12);
      expect(metrics[2].weight_norm).toBe(50);
      expect(metrics[0].fourier_gini).toBe(0.2);
      expect(await l.getSpectra(id)).toEqual([{ step: 0, probe: 'resid.final', eigenvalues: [3, 2, 1] }]);
      expect((await l.getTensorNorms(id)).filter((n) => n.step === 20)).toEqual([
        { step: 20, tensor: 'W_U', norm: 2.5 },
        { step: 20, tensor: 'embed', norm: 1.5 },
      ]);
      const list = await l.listRuns();
      expect(list).toEqual([{ id, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 4, status: 'completed', T_grok: null, T_cross: 40 }]);
    });
  });

  it('resolves unique id prefixes and names ambiguous or missing ones', async () => {
    const dir = lib();
    await Library.with(dir, async (l) => {
      await l.createRun(PRESETS.fast, {}, 'alpha-1');
      await l.createRun(PRESETS.fast, {}, 'alpha-2');
      await l.createRun(PRESETS.fast, {}, 'beta-1');
      expect(await l.resolveRunId('beta')).toBe('beta-1');
      expect(await l.resolveRunId('alpha-1')).toBe('alpha-1');
      await expect(l.resolveRunId('alpha')).rejects.toThrow(/matches 2 runs/);
      await expect(l.resolveRunId('gamma')).rejects.toThrow(/no run 'gamma'/);
    });
  });

  it('deletes evaluations from a step on, for resuming', async () => {
    const dir = lib();
    await Library.with(dir, async (l) => {
      const id = await l.createRun(PRESETS.fast, {});
      await l.appendEvals(id, [record(0), record(20), record(40, true)]);
      await l.deleteEvalsFrom(id, 20);
      expect((await l.getMetrics(id)).map((m) => m.step)).toEqual([0]);
      expect(await l.getSpectra(id)).toEqual([]);
    });
  });

  it('fails with a clear message while another process holds the library, and opens once it is free', async () => {
    const dir = lib();
    (await Library.open(dir)).close();
    // A second process holds the DuckDB file until its stdin closes.
    const holder = spawn(process.execPath, ['-e', `
      const { DuckDBInstance } = require(${JSON.stringify(require.resolve('@duckdb/node-api'))});
      DuckDBInstance.create(${JSON.stringify(Library.dbPath(dir))}).then(async (db) => {
        await db.connect();
        process.stdout.write('ready\\n');
        process.stdin.on('end', () => process.exit(0));
        process.stdin.resume();
      });`], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    await expect(Library.open(dir, 300)).rejects.toThrow(/in use by another process/);
    const exited = new Promise((r) => holder.once('exit', r));
    holder.stdin!.end();
    await exited;
    (await Library.open(dir, 5000)).close();
  });

  it('serialises sessions on one library within a process', async () => {
    const dir = lib();
    const order: string[] = [];
    await Promise.all([
      Library.with(dir, async (l) => {
        order.push('a-start');
        await l.createRun(PRESETS.fast, {}, 'a');
        order.push('a-end');
      }),
      Library.with(dir, async (l) => {
        order.push('b-start');
        await l.createRun(PRESETS.fast, {}, 'b');
        order.push('b-end');
      }),
    ]);
    expect(order).toEqual(['a-start', 'a-end', 'b-start', 'b-end']);
  });

  it('creates a study run and points its key at it in one transaction: both or neither', async () => {
    const dir = lib();
    await Library.with(dir, async (l) => {
      await l.createRun({ ...PRESETS.fast, seed: 1 }, { node: 'v20' }, 'first', { study: 's', key: 'k' });
      expect(await l.getStudyRuns('s')).toEqual(new Map([['k', 'first']]));
      // A second run under a taken id fails: the key must still point at the first.
      await expect(l.createRun({ ...PRESETS.fast, seed: 2 }, { node: 'v20' }, 'first', { study: 's', key: 'k2' })).rejects.toThrow();
      expect(await l.getStudyRuns('s')).toEqual(new Map([['k', 'first']]));
      expect((await l.listRuns()).map((r) => r.id)).toEqual(['first']);
    });
  });

  it('lists 1,000 runs from one query', async () => {
    const dir = lib();
    await Library.with(dir, async (l) => {
      for (let i = 0; i < 1000; i++) await l.createRun({ ...PRESETS.fast, seed: i }, {}, `run-${String(i).padStart(4, '0')}`);
      const runs = await l.listRuns();
      expect(runs).toHaveLength(1000);
      expect(runs[999].seed).toBe(999);
    });
  });

  it('exports metrics as CSV with one column per probe', () => {
    const csv = metricsToCsv([
      { step: 0, train_loss: 1, train_acc: 0, test_loss: 2, test_acc: 0, weight_norm: 3, entropy: { embed: 0.5 }, eff_rank: { embed: 4 }, top5_share: { embed: 0.9 }, fourier_topk_share: null, fourier_gini: null },
    ]);
    expect(csv).toBe('step,train_loss,train_acc,test_loss,test_acc,weight_norm,entropy.embed,eff_rank.embed,top5_share.embed,fourier_topk_share,fourier_gini\n0,1,0,2,0,3,0.5,4,0.9,,\n');
  });
});
