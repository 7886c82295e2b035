import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { Library } from '../core/library/library.js';
import { libraryVersion, SETTLE_MS } from '../core/library/file-version.js';
import { ReadCache } from '../core/service/read-cache.js';
import { GrokscopeService } from '../core/service/service.js';
import { fixtureRecord, makeFixtureRun } from './helpers/fixture-run.js';
import { scratchFolders } from './helpers/tmp.js';

const require = createRequire(import.meta.url);
const folder = scratchFolders(afterEach);

/** A load that counts its calls and returns a fresh object each time. */
function counted(): { load: () => Promise<{ n: number }>; calls: () => number } {
  let n = 0;
  return { load: async () => ({ n: ++n }), calls: () => n };
}

describe('library version and read cache', () => {
  it('a version is settled only once its files are SETTLE_MS old, and a write moves it', async () => {
    const dir = folder();
    expect(libraryVersion(dir)).toBeNull();
    await makeFixtureRun(dir, { id: 'a' });
    const mtime = Number(statSync(Library.dbPath(dir), { bigint: true }).mtimeNs / 1_000_000n);
    const v = libraryVersion(dir, mtime + SETTLE_MS + 1)!;
    expect(v.settled).toBe(true);
    expect(libraryVersion(dir, mtime + 1)!).toMatchObject({ key: v.key, settled: false });
    // Reading changes nothing; writing changes the version.
    await Library.with(dir, (lib) => lib.listRunsDetailed());
    expect(libraryVersion(dir)!.key).toBe(v.key);
    await Library.with(dir, (lib) => lib.appendEvals('a', [fixtureRecord(80)]));
    expect(libraryVersion(dir)!.key).not.toBe(v.key);
  });

  it('reads once per version, shares a read in flight, and never keeps a failed one', async () => {
    const dir = folder();
    await makeFixtureRun(dir, { id: 'a' });
    const cache = new ReadCache(dir);
    const { load, calls } = counted();
    const [x, y] = await Promise.all([cache.read('k', load), cache.read('k', load)]);
    expect(calls()).toBe(1);
    expect(y).toBe(x);
    expect(await cache.read('k', load)).toBe(x);
    expect(calls()).toBe(1);
    await expect(cache.read('bad', () => Promise.reject(new Error('no such run')))).rejects.toThrow('no such run');
    expect(await cache.read('bad', async () => 'found')).toBe('found');

    await Library.with(dir, (lib) => lib.appendEvals('a', [fixtureRecord(80)]));
    const z = await cache.read('k', load);
    expect(calls()).toBe(2);
    expect(z.n).toBe(2);
  });

  it('holds at most its bound of answers, dropping the least recently used', async () => {
    const dir = folder();
    await makeFixtureRun(dir, { id: 'a' });
    const cache = new ReadCache(dir, 2);
    const { load, calls } = counted();
    await cache.read('one', load);
    await cache.read('two', load);
    await cache.read('one', load); // 'two' is now the least recently used
    await cache.read('three', load);
    expect(cache.size).toBe(2);
    await cache.read('one', load);
    expect(calls()).toBe(3);
    await cache.read('two', load);
    expect(calls()).toBe(4);
  });

  it('the service answers from the cache and sees writes made through it, in this process and in another', async () => {
    const dir = folder();
    await makeFixtureRun(dir, { id: 'a' });
    await makeFixtureRun(dir, { id: 'b', salt: 1 });
    const service = new GrokscopeService(dir, null);
    const first = await service.listRuns();
    expect(await service.listRuns()).toBe(first);
    const run = await service.getRun('a', { forecast: false });
    expect(await service.getRun('a', { forecast: false })).toBe(run);
    expect(await service.getRun('a', { forecast: false, spectra: false })).not.toBe(run);

    await service.tagRuns(['a'], ['seen'], []);
    expect((await service.listRuns()).find((r) => r.id === 'a')!.tags).toEqual(['seen']);

    // Another process adds evaluations, as a `grokscope run` in another terminal does.
    execFileSync(process.execPath, ['-e', `
      const { DuckDBInstance } = require(${JSON.stringify(require.resolve('@duckdb/node-api'))});
      DuckDBInstance.create(${JSON.stringify(Library.dbPath(dir))}).then(async (db) => {
        const con = await db.connect();
        await con.run("INSERT INTO metrics (run_id, step, train_loss) VALUES ('a', 1000, 0.5)");
        await con.run("UPDATE runs SET steps_done = 1000 WHERE id = 'a'");
        con.closeSync(); db.closeSync();
      });`]);
    const after = await service.getRun('a', { forecast: false });
    expect(after.stepsDone).toBe(1000);
    expect(after.metrics.length).toBe(run.metrics.length + 1);
  });
});
