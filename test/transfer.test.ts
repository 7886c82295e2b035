import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { Library } from '../core/library/library.js';
import { writeManifest, listFiles } from '../core/library/manifest.js';
import { exportRuns, importSources, importSourcesInto, type ImportReport } from '../core/library/transfer.js';
import { DEFAULT_ZIP_LIMITS, extractZip, writeZip } from '../core/library/zip.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { scratchFolders } from './helpers/tmp.js';
import { craftZip } from './helpers/zipcraft.js';
import { mutateBytes } from './helpers/mutate.js';

const scratch = scratchFolders(afterEach);

async function snapshot(dir: string, id: string): Promise<unknown> {
  return Library.with(dir, async (l) => {
    const run = await l.getRun(id);
    return {
      config: run.config,
      status: run.status,
      backend: run.backend,
      backendNote: run.backendNote,
      versions: run.versions,
      events: run.events,
      stepsDone: run.stepsDone,
      metrics: await l.getMetrics(id),
      spectra: await l.getSpectra(id),
      tensor_norms: await l.getTensorNorms(id),
      stepNorms: Array.from(await l.getStepNorms(id)),
    };
  });
}

const counts = (dir: string): Promise<Record<string, number>> => Library.with(dir, (l) => l.tableCounts());

function failure(reports: ImportReport[]): string {
  expect(reports).toHaveLength(1);
  const r = reports[0];
  if (r.ok) throw new Error(`expected the import to fail, it did: ${JSON.stringify(r.outcomes)}`);
  return r.error;
}

/** Unpack a saved run, let `edit` change its files, re-manifest and re-zip it. */
async function repack(file: string, edit: (dir: string) => void, out: string, remanifest = true): Promise<string> {
  const dir = path.join(scratch(), 'unpacked');
  mkdirSync(dir);
  await extractZip(file, dir, () => true);
  edit(dir);
  if (remanifest) await writeManifest(dir);
  await writeZip(out, listFiles(dir).map((n) => [n, path.join(dir, ...n.split('/'))]));
  return out;
}

describe('saved runs (.grokrun)', () => {
  it('export then import into another library reproduces every number', async () => {
    const a = scratch();
    const b = scratch();
    const id = await makeFixtureRun(a);
    await Library.with(a, (l) => l.setTags(id, ['fig-3', ' keep ', 'fig-3', '']));
    const file = path.join(scratch(), 'run.grokrun');
    const r = await exportRuns(a, [id], file);
    expect(r.runs).toEqual([id]);
    const [rep] = await importSources(b, [file]);
    expect(rep.ok && rep.outcomes).toEqual([{ id, sourceId: id, action: 'imported', message: `${id}: imported` }]);
    expect(await snapshot(b, id)).toEqual(await snapshot(a, id));
    const run = await Library.with(b, (l) => l.getRun(id));
    expect(run.origin).toBe('imported');
    expect(run.sourceId).toBe(id);
    expect(run.tags).toEqual(['fig-3', 'keep']); // tags travel with the run, normalised
  });

  it('imports a saved run written before eval_scalars existed, and knows it again on re-import', async () => {
    const a = scratch();
    const b = scratch();
    // The run as an older Grokscope recorded it: no evaluation scalars, so no eval_scalars file.
    const id = await makeFixtureRun(a, { olderRecord: true });
    const file = path.join(scratch(), 'run.grokrun');
    await exportRuns(a, [id], file);
    const old = await repack(file, (dir) => rmSync(path.join(dir, 'eval_scalars.parquet')), path.join(scratch(), 'old.grokrun'));
    const [first] = await importSources(b, [old]);
    expect(first.ok).toBe(true);
    expect(await snapshot(b, id)).toEqual(await snapshot(a, id));
    expect((await snapshot(b, id) as { metrics: { scalars: object }[] }).metrics.every((m) => Object.keys(m.scalars).length === 0)).toBe(true);
    const [again] = await importSources(b, [old]);
    expect(again.ok && again.outcomes.map((o) => o.action)).toEqual(['unchanged']);
    // A library run with no scalars has the digest its old saved run has: the new file adds nothing.
    const [fresh] = await importSources(b, [file]);
    expect(fresh.ok && fresh.outcomes.map((o) => o.action)).toEqual(['unchanged']);
  });

  it('imports the unpacked folder form too', async () => {
    const a = scratch();
    const b = scratch();
    const id = await makeFixtureRun(a);
    const file = path.join(scratch(), 'run.grokrun');
    await exportRuns(a, [id], file);
    const folder = path.join(scratch(), 'run');
    mkdirSync(folder);
    await extractZip(file, folder, () => true);
    const [rep] = await importSources(b, [folder]);
    expect(rep.ok).toBe(true);
    expect(await snapshot(b, id)).toEqual(await snapshot(a, id));
  });

  it('re-importing the same run is a no-op; same id with different content becomes a new run with a note', async () => {
    const a = scratch();
    const b = scratch();
    const id = await makeFixtureRun(a, { id: 'shared-id' });
    await makeFixtureRun(b, { id: 'shared-id', salt: 5 });
    const file = path.join(scratch(), 'run.grokrun');
    await exportRuns(a, [id], file);
    // Into its own library: nothing happens.
    const before = await counts(a);
    const [same] = await importSources(a, [file]);
    expect(same.ok && same.outcomes[0].action).toBe('unchanged');
    expect(await counts(a)).toEqual(before);
    // Into a library where the id holds other numbers: a new id, a note, and both kept.
    const [renamed] = await importSources(b, [file]);
    if (!renamed.ok) throw new Error(renamed.error);
    const out = renamed.outcomes[0];
    expect(out.action).toBe('renamed');
    expect(out.id).not.toBe('shared-id');
    const run = await Library.with(b, (l) => l.getRun(out.id));
    expect(run.note).toMatch(/already taken/);
    expect(await snapshot(b, out.id)).toEqual(await snapshot(a, id));
    // A third import finds the renamed copy and does nothing.
    const [again] = await importSources(b, [file]);
    expect(again.ok && again.outcomes[0]).toMatchObject({ action: 'unchanged', id: out.id });
  });

  it('includes checkpoints on request, so an imported run can be resumed', async () => {
    const a = scratch();
    const b = scratch();
    const id = await makeFixtureRun(a);
    mkdirSync(path.join(a, 'checkpoints', id), { recursive: true });
    writeFileSync(path.join(a, 'checkpoints', id, 'step-00000060.ckpt'), Buffer.from('GROKSCOPE-CKPT\nfake'));
    const file = path.join(scratch(), 'run.grokrun');
    await exportRuns(a, [id], file, { checkpoints: true });
    const [rep] = await importSources(b, [file]);
    expect(rep.ok).toBe(true);
    expect(readFileSync(path.join(b, 'checkpoints', id, 'step-00000060.ckpt'), 'utf8')).toBe('GROKSCOPE-CKPT\nfake');
  });
});

describe('reproducibility bundles (.grokbundle)', () => {
  it('carries runs, their dependencies, the lockfile and the environment; imports in one go', async () => {
    const a = scratch();
    const b = scratch();
    const mix = await makeFixtureRun(a, { id: 'mix-run', config: { condition: 'mix' } });
    const nm = await makeFixtureRun(a, { id: 'nm-run', salt: 2, config: { condition: 'norm-matched', normTargetRun: mix } });
    // b already has a different 'mix-run': the imported mix gets a new id and the norm-matched run follows it.
    await makeFixtureRun(b, { id: 'mix-run', salt: 9, config: { condition: 'mix' } });
    const file = path.join(scratch(), 'study.grokbundle');
    const r = await exportRuns(a, [nm], file);
    expect(r.added).toEqual([mix]);
    expect(r.runs).toEqual([mix, nm]);
    const unpacked = path.join(scratch(), 'u');
    mkdirSync(unpacked);
    const names = await extractZip(file, unpacked, () => true);
    expect(names).toEqual(expect.arrayContaining(['bundle.json', 'environment.json', 'package-lock.json', 'manifest.json', 'runs/mix-run/run.json', 'runs/nm-run/metrics.parquet']));
    const env = JSON.parse(readFileSync(path.join(unpacked, 'environment.json'), 'utf8'));
    expect(env.cpu.cores).toBeGreaterThan(0);
    expect(Array.isArray(env.gpus)).toBe(true);
    const [rep] = await importSources(b, [file]);
    if (!rep.ok) throw new Error(rep.error);
    const newMix = rep.outcomes.find((o) => o.sourceId === 'mix-run')!;
    expect(newMix.action).toBe('renamed');
    const nmRun = await Library.with(b, (l) => l.getRun('nm-run'));
    expect(nmRun.config.normTargetRun).toBe(newMix.id);
  });
});

describe('bad input is refused with the file and the problem named, and nothing half-imported', () => {
  async function setup(): Promise<{ a: string; b: string; id: string; file: string; dir: string }> {
    const a = scratch();
    const b = scratch();
    const id = await makeFixtureRun(a);
    const dir = scratch();
    const file = path.join(dir, 'good.grokrun');
    await exportRuns(a, [id], file);
    await makeFixtureRun(b, { id: 'bystander', salt: 1 }); // a library that is not empty
    return { a, b, id, file, dir };
  }

  async function refused(b: string, file: string, pattern: RegExp): Promise<void> {
    const before = await counts(b);
    const msg = failure(await importSources(b, [file]));
    expect(msg.startsWith(path.basename(file))).toBe(true);
    expect(msg).toMatch(pattern);
    expect(msg).not.toMatch(/\n|    at /);
    expect(await counts(b)).toEqual(before);
  }

  it('truncated, corrupted, not a zip, oversized', async () => {
    const { b, file, dir } = await setup();
    const bytes = readFileSync(file);
    const truncated = path.join(dir, 'truncated.grokrun');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await refused(b, truncated, /not a readable zip/);
    const corrupted = path.join(dir, 'corrupted.grokrun');
    const c = Buffer.from(bytes);
    for (let i = 200; i < 260; i++) c[i] ^= 0x5a;
    writeFileSync(corrupted, c);
    await refused(b, corrupted, /corrupt|SHA-256|cannot be read|not valid JSON/);
    const text = path.join(dir, 'text.grokrun');
    writeFileSync(text, 'hello');
    await refused(b, text, /not a readable zip/);
    const before = await counts(b);
    const [rep] = await importSources(b, [file], { ...DEFAULT_ZIP_LIMITS, maxArchiveBytes: 1000 });
    expect(!rep.ok && rep.error).toMatch(/over the 1000-byte limit/);
    expect(await counts(b)).toEqual(before);
  });

  it('zip bombs and headers that lie about sizes', async () => {
    const { b, dir } = await setup();
    const bomb = path.join(dir, 'bomb.grokrun');
    writeFileSync(bomb, craftZip([{ name: 'metrics.parquet', data: Buffer.alloc(64 * 2 ** 20), deflate: true }]));
    await refused(b, bomb, /compressed \d+:1.*zip bomb/);
    const liar = path.join(dir, 'liar.grokrun');
    writeFileSync(liar, craftZip([{ name: 'run.json', data: Buffer.alloc(4096, 32), deflate: true, declaredSize: 10 }]));
    await refused(b, liar, /cannot be read|too many bytes|past its declared size/);
    // A deflate stream that stays under the ratio limit but claims more than the total allows.
    const big = path.join(dir, 'big.grokrun');
    writeFileSync(big, craftZip([{ name: 'metrics.parquet', data: Buffer.alloc(3 * 2 ** 20, 7) }]));
    const before = await counts(b);
    const [rep] = await importSources(b, [big], { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: 2 ** 20 });
    expect(!rep.ok && rep.error).toMatch(/over the 1048576-byte limit/);
    expect(await counts(b)).toEqual(before);
  });

  it('path traversal, unknown and duplicate entries', async () => {
    const { b, dir } = await setup();
    for (const name of ['../evil.txt', '/etc/evil', 'checkpoints/../../evil', 'a\\..\\evil']) {
      const f = path.join(dir, 'traversal.grokrun');
      writeFileSync(f, craftZip([{ name, data: Buffer.from('x') }]));
      await refused(b, f, /unsafe entry name|unexpected entry/);
      expect(existsSync(path.join(dir, 'evil.txt'))).toBe(false);
    }
    const unknown = path.join(dir, 'unknown.grokrun');
    writeFileSync(unknown, craftZip([{ name: 'run.json', data: Buffer.from('{}') }, { name: 'payload.exe', data: Buffer.from('x') }]));
    await refused(b, unknown, /unexpected entry 'payload.exe'/);
    const dup = path.join(dir, 'dup.grokrun');
    writeFileSync(dup, craftZip([{ name: 'run.json', data: Buffer.from('{}') }, { name: 'run.json', data: Buffer.from('{}') }]));
    await refused(b, dup, /occurs twice/);
  });

  it('tampered files, wrong version, wrong schema, wrong Parquet columns', async () => {
    const { b, file, dir } = await setup();
    const edit = (f: (j: Record<string, unknown>) => void) => (d: string) => {
      const p = path.join(d, 'run.json');
      const j = JSON.parse(readFileSync(p, 'utf8'));
      f(j);
      writeFileSync(p, JSON.stringify(j));
    };
    const tampered = await repack(file, edit((j) => ((j.config as Record<string, unknown>).lr = 0.5)), path.join(dir, 'tampered.grokrun'), false);
    await refused(b, tampered, /run\.json .*(SHA-256|bytes)/);
    const newer = await repack(file, edit((j) => (j.version = 7)), path.join(dir, 'newer.grokrun'));
    await refused(b, newer, /format version 7; this Grokscope reads version 1/);
    const schema = await repack(file, edit((j) => delete (j.config as Record<string, unknown>).lr), path.join(dir, 'schema.grokrun'));
    await refused(b, schema, /run\.json: config\.lr/);
    const notOurs = await repack(file, edit((j) => (j.format = 'tensorboard')), path.join(dir, 'notours.grokrun'));
    await refused(b, notOurs, /not a Grokscope saved run/);
    const badJson = await repack(file, (d) => writeFileSync(path.join(d, 'run.json'), '{"format": "grokrun",'), path.join(dir, 'badjson.grokrun'));
    await refused(b, badJson, /run\.json is not valid JSON/);
    const swapped = await repack(
      file,
      (d) => writeFileSync(path.join(d, 'metrics.parquet'), readFileSync(path.join(d, 'step_norms.parquet'))),
      path.join(dir, 'columns.grokrun'),
    );
    await refused(b, swapped, /metrics\.parquet has columns \(step INTEGER, weight_norm DOUBLE\); expected/);
    const garbage = await repack(file, (d) => writeFileSync(path.join(d, 'spectra.parquet'), 'not parquet at all'), path.join(dir, 'garbage.grokrun'));
    await refused(b, garbage, /spectra\.parquet is not a readable Parquet file/);
    const missing = await repack(file, (d) => writeFileSync(path.join(d, 'manifest.json'), '{"format":"grokscope-manifest","version":1,"algorithm":"sha256","files":{}}'), path.join(dir, 'm.grokrun'), false);
    await refused(b, missing, /not in the manifest/);
  });

  it('survives a few hundred random mutations of a valid saved run (npm run fuzz:import does thousands)', async () => {
    const { a, b, id, file } = await setup();
    const good = readFileSync(file);
    const want = await snapshot(a, id);
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const target = path.join(scratch(), 'fuzzed.grokrun');
    const tally = { refused: 0, imported: 0, unchanged: 0 };
    const accepted: string[] = [];
    await Library.with(b, async (lib) => {
      for (let i = 0; i < 300; i++) {
        writeFileSync(target, mutateBytes(good, rand));
        const before = await lib.tableCounts();
        const [rep] = await importSourcesInto(lib, [target]);
        if (!rep.ok) {
          tally.refused++;
          expect(rep.error.startsWith('fuzzed.grokrun: ')).toBe(true);
          expect(await lib.tableCounts()).toEqual(before);
          continue;
        }
        const out = rep.outcomes[0];
        tally[out.action === 'unchanged' ? 'unchanged' : 'imported']++;
        accepted.push(out.id);
      }
    });
    // A mutation that only touched bytes no reader uses (timestamps, padding) may import: it must
    // then be the very same run.
    for (const id of new Set(accepted)) expect(await snapshot(b, id)).toEqual(want);
    expect(tally.refused).toBeGreaterThan(200);
  });
});

describe('deflate sanity for the bomb test', () => {
  it('64 MiB of zeros deflates past the ratio limit', () => {
    expect((64 * 2 ** 20) / deflateRawSync(Buffer.alloc(64 * 2 ** 20)).length).toBeGreaterThan(DEFAULT_ZIP_LIMITS.maxRatio);
  });
});
