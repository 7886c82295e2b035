import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { RunConfigSchema } from '../schema/run-config.js';
import { versions } from '../versions.js';
import { Library, RUN_TABLES, RUN_TABLE_NAMES, type RunImport, type RunRecord, type RunTable } from './library.js';
import { isOptionalTable } from './interchange.js';
import { listFiles, readJsonFile } from './manifest.js';
import { checkpointDirFor } from './paths.js';
import { ImportError } from './zip.js';
import { firstLine } from '../errors.js';

/**
 * A saved run (`.grokrun` zip, or the same files in a folder):
 *   run.json            config, seeds and split, backend, versions, events (RunJsonSchema)
 *   <table>.parquet     one per table of RUN_TABLES (metrics, probe_metrics, tensor_norms, spectra, step_norms,
 *                       eval_scalars; saved runs written before 2026-11-30 lack eval_scalars)
 *   checkpoints/        optional: step-NNNNNNNN.ckpt, and progress/step-NNNNNNNN.ckpt (a run not yet
 *                       completed: the parameter snapshots its final-key-frequency losses need)
 *   manifest.json       SHA-256 and size of every other file
 * Documented in docs/formats.md.
 */
export const RUN_JSON_VERSION = 1;
/** A checkpoint's name inside `checkpoints/`: a checkpoint, or a progress snapshot in `progress/`. */
const CHECKPOINT_NAME = /^(progress\/)?step-\d{8}\.ckpt$/;
export const RUN_JSON = 'run.json';

const ID = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, ".", "_" and "-" only (at most 128)');

export const RunJsonSchema = z
  .object({
    format: z.literal('grokrun'),
    version: z.literal(RUN_JSON_VERSION),
    id: ID,
    createdAt: z.string(),
    updatedAt: z.string(),
    status: z.enum(['queued', 'running', 'completed', 'stopped', 'failed']),
    config: RunConfigSchema,
    /** The train/test split is a function of these (core/tasks/dataset.ts). */
    split: z.object({ task: z.string(), p: z.number().int(), seed: z.number().int(), trainFraction: z.number() }).strict(),
    backend: z.string().nullable(),
    backendNote: z.string().nullable(),
    versions: z.record(z.string(), z.string()),
    /** Steps and leads (numbers or null), and below_at_mem (a boolean) since 2026-12-05. */
    events: z.record(z.string(), z.union([z.number(), z.boolean()]).nullable()).nullable(),
    stepsDone: z.number().int().nonnegative(),
    error: z.string().nullable(),
    note: z.string().nullable().default(null),
    tags: z.array(z.string().max(64)).max(1000).default([]),
    exportedAt: z.string(),
    exportedWith: z.record(z.string(), z.string()),
    checkpoints: z.array(z.string().regex(CHECKPOINT_NAME)).default([]),
  })
  .strict();

export type RunJson = z.infer<typeof RunJsonSchema>;

const TABLE_FILE = (t: RunTable): string => `${t}.parquet`;

/** Names a saved run may contain (relative to its root). */
export function isSavedRunName(name: string): boolean {
  return name === RUN_JSON || name === 'manifest.json' || RUN_TABLE_NAMES.some((t) => name === TABLE_FILE(t)) || (name.startsWith('checkpoints/') && CHECKPOINT_NAME.test(name.slice('checkpoints/'.length)));
}

export function runJsonOf(run: RunRecord, checkpoints: string[]): RunJson {
  const c = run.config;
  return {
    format: 'grokrun',
    version: RUN_JSON_VERSION,
    id: run.id,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    status: run.status,
    config: c,
    split: { task: c.task, p: c.p, seed: c.splitSeed ?? c.seed, trainFraction: c.trainFraction },
    backend: run.backend,
    backendNote: run.backendNote,
    versions: run.versions,
    events: run.events as unknown as Record<string, number | boolean | null> | null,
    stepsDone: run.stepsDone,
    error: run.error,
    note: run.note,
    tags: run.tags,
    exportedAt: new Date().toISOString(),
    exportedWith: versions(),
    checkpoints,
  };
}

/**
 * What a compact export (a study's runs for analysis elsewhere, transfer.ts) leaves out of a run:
 * the eigenvalue spectra and per-tensor norms, which no study analysis reads (the run view's
 * spectrum and norm charts do), and the per-step weight norms except a `mix` run's, the target a
 * norm-matched run replays (core/runs/prepare.ts). The tables stay in the saved run, empty, so
 * the format is the same; docs/formats.md.
 */
export function compactOmits(condition: string): RunTable[] {
  return condition === 'mix' ? ['spectra', 'tensor_norms'] : ['spectra', 'tensor_norms', 'step_norms'];
}

/** The tag a run exported compact carries (its spectra and norms were left out). */
export const COMPACT_TAG = 'compact-export';

/** Write run `id` of `lib` as a saved-run folder at `dir` (without manifest: the caller writes it); `compact`: without what compactOmits names. */
export async function writeRunFolder(lib: Library, id: string, dir: string, withCheckpoints: boolean, inProgress = false, compact = false): Promise<RunJson> {
  const stored = await lib.getRun(id);
  if (stored.origin === 'external') throw new Error(`run ${id} is an external run; export it as CSV instead`);
  if (!inProgress && (stored.status === 'running' || stored.status === 'queued')) throw new Error(`run ${id} is still ${stored.status}; stop it or let it finish before exporting`);
  // A snapshot of a run in training (a queue worker's upload) is, to whoever imports it, a stopped
  // run to resume from its checkpoints.
  const run = inProgress && (stored.status === 'running' || stored.status === 'queued') ? { ...stored, status: 'stopped' as const } : stored;
  mkdirSync(dir, { recursive: true });
  const omit = compact ? compactOmits(stored.config.condition) : [];
  for (const table of RUN_TABLE_NAMES) await lib.exportTable(id, table, path.join(dir, TABLE_FILE(table)), { empty: omit.includes(table), small: compact });
  const checkpoints: string[] = [];
  const ckptDir = checkpointDirFor(lib.dir, id);
  if (withCheckpoints && existsSync(ckptDir)) {
    mkdirSync(path.join(dir, 'checkpoints'));
    const stepFiles = (sub: string): string[] => (existsSync(path.join(ckptDir, sub)) ? readdirSync(path.join(ckptDir, sub)).filter((n) => /^step-\d{8}\.ckpt$/.test(n)).sort().map((n) => (sub ? `${sub}/${n}` : n)) : []);
    // The checkpoints, and a run in training's progress snapshots (core/train/final-progress.ts):
    // resumed elsewhere, it needs them for its final-key-frequency losses.
    for (const f of [...stepFiles(''), ...stepFiles('progress')]) {
      mkdirSync(path.dirname(path.join(dir, 'checkpoints', f)), { recursive: true });
      copyFileSync(path.join(ckptDir, f), path.join(dir, 'checkpoints', f));
      checkpoints.push(f);
    }
  }
  const json = runJsonOf(compact && !run.tags.includes(COMPACT_TAG) ? { ...run, tags: [...run.tags, COMPACT_TAG] } : run, checkpoints);
  writeFileSync(path.join(dir, RUN_JSON), `${JSON.stringify(json, null, 2)}\n`);
  return json;
}

/**
 * Read and validate the saved run in folder `dir` (already checked against its manifest):
 * run.json against its schema and every Parquet file against its table's columns.
 */
export async function readRunFolder(lib: Library, source: string, dir: string, prefix = ''): Promise<{ json: RunJson; item: Omit<RunImport, 'sourceName'> }> {
  const name = (n: string): string => (prefix ? `${prefix}/${n}` : n);
  const raw = readJsonFile(source, dir, name(RUN_JSON), z.object({ format: z.unknown(), version: z.unknown() }).passthrough());
  if (raw.format !== 'grokrun') throw new ImportError(source, `${name(RUN_JSON)} is not a Grokscope saved run (format is ${JSON.stringify(raw.format)})`);
  if (typeof raw.version === 'number' && raw.version > RUN_JSON_VERSION) {
    throw new ImportError(source, `${name(RUN_JSON)} has format version ${raw.version}; this Grokscope reads version ${RUN_JSON_VERSION} (update Grokscope)`);
  }
  const json = readJsonFile(source, dir, name(RUN_JSON), RunJsonSchema);
  const files: Partial<Record<RunTable, string>> = {};
  for (const table of RUN_TABLE_NAMES) {
    const rel = name(TABLE_FILE(table));
    const file = path.join(dir, ...rel.split('/'));
    if (!existsSync(file) && isOptionalTable(table)) continue; // written before the table existed
    if (!existsSync(file)) throw new ImportError(source, `${rel} is missing`);
    let columns: [string, string][];
    try {
      columns = await lib.describeParquet(file);
    } catch (err) {
      throw new ImportError(source, `${rel} is not a readable Parquet file: ${firstLine(err)}`);
    }
    const want = RUN_TABLES[table].columns.map(([c, t]) => `${c} ${t}`).join(', ');
    const got = columns.map(([c, t]) => `${c} ${t}`).join(', ');
    if (want !== got) throw new ImportError(source, `${rel} has columns (${got}); expected (${want})`);
    files[table] = file;
  }
  for (const ck of json.checkpoints) {
    if (!existsSync(path.join(dir, ...name(`checkpoints/${ck}`).split('/')))) throw new ImportError(source, `${name(`checkpoints/${ck}`)} is listed in run.json but missing`);
  }
  const { format: _f, version: _v, split: _s, exportedAt: _e, exportedWith: _w, checkpoints: _c, note: _n, ...rest } = json;
  const record = { ...rest, events: rest.events as RunRecord['events'] };
  return { json, item: { record, files, origin: 'imported' } };
}

/** Copy a saved run's checkpoints into the library's checkpoint folder of run `id`. */
export function installCheckpoints(libraryDir: string, id: string, runDir: string, names: string[]): void {
  if (names.length === 0) return;
  const dest = checkpointDirFor(libraryDir, id);
  mkdirSync(dest, { recursive: true });
  for (const n of names) {
    mkdirSync(path.dirname(path.join(dest, n)), { recursive: true });
    copyFileSync(path.join(runDir, 'checkpoints', ...n.split('/')), path.join(dest, n));
  }
}

/** A private scratch folder, removed by `cleanup`. */
export function scratchDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `grokscope-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A folder source must contain only regular files and folders (no links) with allowed names. */
export function checkFolderNames(source: string, allowed: (name: string) => boolean): void {
  let names: string[];
  try {
    names = listFiles(source);
  } catch (err) {
    throw new ImportError(source, `cannot read folder: ${firstLine(err)}`);
  }
  for (const n of names) if (!allowed(n)) throw new ImportError(source, `unexpected file '${n}' (not part of this format)`);
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
