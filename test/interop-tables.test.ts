import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { Library } from '../core/library/library.js';
import { crc32c, decodeEvent, maskedCrc32c, readRecords } from '../core/interop/tfevents.js';
import { decodeMessage } from '../core/interop/protobuf.js';
import { scalarsOf } from '../core/library/exports/tensorboard.js';
import { eventsFromMetrics } from '../core/library/traces.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { expectCleanError, lastJson, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

/**
 * TensorBoard event files and the long CSV/Parquet tables, checked by reading back every value
 * written: the event files with our own TFRecord/protobuf reader (both CRCs of every record), the
 * tables with DuckDB's CSV and Parquet readers.
 */
const tmp = tempDir();
const library = path.join(tmp.dir, 'lib');
const f32 = (x: number): number => Math.fround(x);
let ids: string[];

beforeAll(async () => {
  // fx-c's test accuracy (step + 100) / 1013 first reaches T_rise's level at step 40 (p = 31: chance + 0.1·(1 − chance) = 0.129).
  ids = [await makeFixtureRun(library, { id: 'fx-a', salt: 0 }), await makeFixtureRun(library, { id: 'fx-b', salt: 3 }), await makeFixtureRun(library, { id: 'fx-c', salt: 100 })];
});
afterAll(() => tmp.cleanup());

describe('CRC-32C', () => {
  it('matches the standard check value and RFC 3720’s vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });
});

describe('TensorBoard export', () => {
  it('writes one event file per run whose every record, scalar, text and HParams session reads back', async () => {
    const out = path.join(tmp.dir, 'tb');
    const r = runCli(['export', ...ids, '--format', 'tensorboard', '-o', out, '--library', library, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((lastJson(r.stdout) as { files: string[] }).files).toHaveLength(3);
    for (const id of ids) {
      const [file] = readdirSync(path.join(out, id));
      expect(file).toMatch(/^events\.out\.tfevents\.\d+\.grokscope$/);
      const decoded = readRecords(readFileSync(path.join(out, id, file))).map(decodeEvent);
      expect(decoded[0].fileVersion).toBe('brain.Event:2');
      const { run, rows } = await Library.with(library, async (lib) => ({ run: await lib.getRun(id), rows: await lib.getMetrics(id) }));

      // Scalars: one event per evaluation, every value as a float32.
      const scalarEvents = decoded.filter((e) => e.values.length && e.values.every((v) => v.simpleValue !== null));
      expect(scalarEvents.map((e) => e.step)).toEqual(rows.map((row) => row.step));
      for (const [i, row] of rows.entries()) {
        const want = scalarsOf(row);
        expect(want.length).toBeGreaterThan(10);
        expect(scalarEvents[i].values.map((v) => [v.tag, v.simpleValue])).toEqual(want.map(([tag, v]) => [tag, f32(v)]));
      }
      // Events, recomputed from the metrics (the fixture's stored T_grok 60 is not in them), as text at their step; the config as text.
      const texts = new Map(decoded.flatMap((e) => e.values.filter((v) => v.plugin === 'text').map((v) => [v.tag, { text: v.text, step: e.step }])));
      expect(texts.get('events/T_grok')).toEqual({ text: 'not reached', step: 0 });
      expect(texts.get('events/T_grok_99')).toEqual({ text: 'not reached', step: 0 });
      expect(texts.get('events/T_rise')).toEqual(id === 'fx-c' ? { text: '40', step: 40 } : { text: 'not reached', step: 0 });
      expect(texts.get('events/below_at_mem')).toEqual({ text: 'false', step: 0 });
      expect(JSON.parse(texts.get('config')!.text!.replace(/^```json\n|\n```$/g, ''))).toEqual(run.config);

      // HParams: version 0, session_start_info with the config's scalar fields; then the end.
      const start = decoded.flatMap((e) => e.values).find((v) => v.tag === '_hparams_/session_start_info')!;
      expect(start.plugin).toBe('hparams');
      const data = decodeMessage(start.pluginContent!);
      expect(data[0]).toEqual({ field: 1, wire: 0, value: 0n });
      const info = decodeMessage(data.find((f) => f.field === 3)!.value as Uint8Array);
      const hparams = new Map(
        info
          .filter((f) => f.field === 1)
          .map((entry) => {
            const [k, v] = decodeMessage(entry.value as Uint8Array);
            const [value] = decodeMessage(v.value as Uint8Array);
            const x = value.value as Uint8Array;
            return [Buffer.from(k.value as Uint8Array).toString(), value.field === 2 ? Buffer.from(x).readDoubleLE(0) : value.field === 3 ? Buffer.from(x).toString() : value.value === 1n];
          }),
      );
      expect(hparams.get('lr')).toBe(run.config.lr);
      expect(hparams.get('task')).toBe(run.config.task);
      expect(hparams.get('seed')).toBe(run.config.seed);
      const end = decoded.flatMap((e) => e.values).find((v) => v.tag === '_hparams_/session_end_info')!;
      const endInfo = decodeMessage(decodeMessage(end.pluginContent!).find((f) => f.field === 4)!.value as Uint8Array);
      expect(endInfo[0]).toEqual({ field: 1, wire: 0, value: 1n }); // STATUS_SUCCESS: the run completed
    }
  });

  it('a flipped byte fails the record’s CRC; framing is the TFRecord one', () => {
    const dir = path.join(tmp.dir, 'tb', ids[0]);
    const bytes = readFileSync(path.join(dir, readdirSync(dir)[0]));
    const n = Number(bytes.readBigUInt64LE(0));
    expect(bytes.readUInt32LE(8)).toBe(maskedCrc32c(bytes.subarray(0, 8)));
    expect(bytes.readUInt32LE(12 + n)).toBe(maskedCrc32c(bytes.subarray(12, 12 + n)));
    const damaged = Buffer.from(bytes);
    damaged[14] ^= 0x10;
    expect(() => readRecords(damaged)).toThrow(/record at byte 0: data CRC mismatch/);
    const lengthDamaged = Buffer.from(bytes);
    lengthDamaged[0] ^= 0x01;
    expect(() => readRecords(lengthDamaged)).toThrow(/record at byte 0: length CRC mismatch/);
  });

  it('refuses to write into a run folder that is not empty, in one line', () => {
    expectCleanError(runCli(['export', ids[0], '--format', 'tensorboard', '-o', path.join(tmp.dir, 'tb'), '--library', library]), /exists and is not empty/);
  });
});

describe('long tables', () => {
  async function query(sql: string): Promise<unknown[][]> {
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      return (await con.runAndReadAll(sql)).getRowsJS();
    } finally {
      con.closeSync();
      db.closeSync();
    }
  }

  for (const format of ['csv', 'parquet'] as const) {
    it(`${format}: every stored value once as (run, step, metric, value), and a runs table with configs and events`, async () => {
      const file = path.join(tmp.dir, `all.${format}`);
      const r = runCli(['export', ...ids, '--format', format, '-o', file, '--library', library]);
      expect(r.code, r.stderr).toBe(0);
      const reader = format === 'csv' ? 'read_csv' : 'read_parquet';
      const rows = await query(`SELECT run, step, metric, value FROM ${reader}('${file}') ORDER BY run, step, metric`);
      const want: [string, number, string, number][] = [];
      await Library.with(library, async (lib) => {
        for (const id of ids) {
          const norms = await lib.getTensorNorms(id);
          for (const row of await lib.getMetrics(id)) {
            const named: [string, number | null][] = [
              ['train_loss', row.train_loss], ['train_acc', row.train_acc], ['test_loss', row.test_loss], ['test_acc', row.test_acc], ['weight_norm', row.weight_norm],
              ['fourier_topk_share', row.fourier_topk_share], ['fourier_gini', row.fourier_gini],
              ...Object.entries(row.entropy).map(([p, v]): [string, number] => [`entropy/${p}`, v]),
              ...Object.entries(row.eff_rank).map(([p, v]): [string, number] => [`eff_rank/${p}`, v]),
              ...Object.entries(row.top5_share).map(([p, v]): [string, number] => [`top5_share/${p}`, v]),
              ...norms.filter((n) => n.step === row.step).map((n): [string, number] => [`norm/${n.tensor}`, n.norm]),
              ...Object.entries(row.scalars).map(([name, v]): [string, number] => [name, v]),
            ];
            for (const [metric, value] of named) if (value !== null && Number.isFinite(value)) want.push([id, row.step, metric, value]);
          }
        }
      });
      want.sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
      expect(rows.map((x) => [x[0], Number(x[1]), x[2], Number(x[3])])).toEqual(want);
      const runs = await query(`SELECT run, status, config, events, t_grok, t_rise, below_at_mem FROM ${reader}('${file.replace(`.${format}`, `.runs.${format}`)}') ORDER BY run`);
      expect(runs.map((x) => x[0])).toEqual(ids);
      const { stored, rows: metricRows } = await Library.with(library, async (lib) => ({ stored: await lib.getRun(ids[1]), rows: await lib.getMetrics(ids[1]) }));
      expect(JSON.parse(String(runs[1][2]))).toEqual(stored.config);
      // The events are recomputed from the metrics, not the fixture's stored ones (T_grok 60), and the library keeps those.
      expect(JSON.parse(String(runs[1][3]))).toEqual(eventsFromMetrics(stored.config, metricRows));
      expect(stored.events?.T_grok).toBe(60);
      expect(runs.map((x) => [x[4], x[5] === null ? null : Number(x[5]), x[6]])).toEqual([
        [null, null, false],
        [null, null, false],
        [null, 40, false],
      ]);
    });
  }

  it('refuses a name that does not match the format, or one that exists, in one line', () => {
    expectCleanError(runCli(['export', ids[0], '--format', 'csv', '-o', path.join(tmp.dir, 'x.parquet'), '--library', library]), /-o must end in \.csv for --format csv/);
    expectCleanError(runCli(['export', ids[0], '--format', 'csv', '-o', path.join(tmp.dir, 'all.csv'), '--library', library]), /all\.csv exists: choose another name/);
  });
});
