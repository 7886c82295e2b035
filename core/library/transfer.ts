import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { StudySpecSchema, type StudySpec } from '../schema/study-spec.js';
import { packageRoot, versions } from '../versions.js';
import { collectEnvironment } from './environment.js';
import { Library, type RunImport, type RunImportOutcome } from './library.js';
import { MANIFEST_NAME, listFiles, readJsonFile, verifyManifest, writeManifest } from './manifest.js';
import { checkFolderNames, installCheckpoints, isDirectory, isSavedRunName, readRunFolder, scratchDir, writeRunFolder, type RunJson } from './saved-run.js';
import { DEFAULT_ZIP_LIMITS, ImportError, extractZip, writeZip, type ZipLimits } from './zip.js';
import { firstLine } from '../errors.js';

/**
 * Moving runs between libraries: `.grokrun` (one saved run) and `.grokbundle` (several saved runs,
 * the study spec, the package lockfile and the machine's environment), both zips with a SHA-256
 * manifest; also accepted unpacked as folders. Import validates everything before it touches the
 * library, then imports in one transaction. Formats: docs/formats.md.
 */
export const BUNDLE_JSON = 'bundle.json';
export const BUNDLE_VERSION = 1;

export const BundleJsonSchema = z
  .object({
    format: z.literal('grokbundle'),
    version: z.literal(BUNDLE_VERSION),
    createdAt: z.string(),
    createdWith: z.record(z.string(), z.string()),
    /** Run ids in the order they were given (dependencies first); each is a folder under runs/. */
    runs: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/)).min(1),
    study: StudySpecSchema.nullable(),
  })
  .strict();

export type BundleJson = z.infer<typeof BundleJsonSchema>;

function isBundleName(name: string): boolean {
  if ([BUNDLE_JSON, MANIFEST_NAME, 'environment.json', 'package-lock.json'].includes(name)) return true;
  const m = /^runs\/([A-Za-z0-9._-]{1,128})\/(.+)$/.exec(name);
  return m !== null && m[2] !== MANIFEST_NAME && isSavedRunName(m[2]);
}

export type ExportKind = 'grokrun' | 'grokbundle';

export function exportKindOf(file: string): ExportKind {
  if (file.endsWith('.grokrun')) return 'grokrun';
  if (file.endsWith('.grokbundle')) return 'grokbundle';
  throw new Error(`output ${file} must end in .grokrun (one run) or .grokbundle (runs with their environment)`);
}

export interface ExportOptions {
  checkpoints?: boolean;
  /** A .grokrun of a run still training, as a stopped run (a queue worker's upload). */
  inProgress?: boolean;
  study?: StudySpec | null;
  /**
   * A compact bundle (a study's runs for analysis elsewhere): no checkpoints, and each run without
   * the tables no study analysis reads (saved-run.ts compactOmits), tagged `compact-export`.
   */
  compact?: boolean;
}

export interface ExportResult {
  file: string;
  kind: ExportKind;
  runs: string[];
  bytes: number;
  /** Runs added because others depend on them (a norm-matched run's mix target). */
  added: string[];
}

/** Export runs of the library at `libraryDir` to `out` (.grokrun: exactly one run). */
export async function exportRuns(libraryDir: string, ids: string[], out: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const kind = exportKindOf(out);
  if (ids.length === 0) throw new Error('nothing to export: give run ids (or a study)');
  if (kind === 'grokrun' && ids.length !== 1) throw new Error(`a .grokrun holds one run; ${ids.length} were given (export them as a .grokbundle)`);
  const scratch = scratchDir('export');
  try {
    const result = await Library.with(libraryDir, async (lib) => {
      const resolved: string[] = [];
      for (const id of ids) resolved.push(await lib.resolveRunId(id));
      const added: string[] = [];
      if (kind === 'grokrun') {
        await writeRunFolder(lib, resolved[0], scratch.dir, opts.checkpoints ?? false, opts.inProgress ?? false);
        return { runs: resolved, added };
      }
      // A norm-matched run cannot be reproduced without its mix run: bring it along, first.
      const ordered: string[] = [];
      const visit = async (id: string): Promise<void> => {
        if (ordered.includes(id)) return;
        const run = await lib.getRun(id);
        const target = run.config.normTargetRun;
        if (target) {
          const targetId = await lib.resolveRunId(target);
          if (!resolved.includes(targetId) && !added.includes(targetId)) added.push(targetId);
          await visit(targetId);
        }
        ordered.push(id);
      };
      for (const id of resolved) await visit(id);
      if (opts.compact && opts.checkpoints) throw new Error('a compact export has no checkpoints');
      for (const id of ordered) await writeRunFolder(lib, id, path.join(scratch.dir, 'runs', id), opts.checkpoints ?? false, false, opts.compact ?? false);
      const bundle: BundleJson = { format: 'grokbundle', version: BUNDLE_VERSION, createdAt: new Date().toISOString(), createdWith: versions(), runs: ordered, study: opts.study ?? null };
      writeFileSync(path.join(scratch.dir, BUNDLE_JSON), `${JSON.stringify(bundle, null, 2)}\n`);
      writeFileSync(path.join(scratch.dir, 'environment.json'), `${JSON.stringify(collectEnvironment(), null, 2)}\n`);
      const root = packageRoot();
      if (root && existsSync(path.join(root, 'package-lock.json'))) copyFileSync(path.join(root, 'package-lock.json'), path.join(scratch.dir, 'package-lock.json'));
      return { runs: ordered, added };
    });
    await writeManifest(scratch.dir);
    await writeZip(
      out,
      listFiles(scratch.dir).map((n) => [n, path.join(scratch.dir, ...n.split('/'))]),
    );
    return { file: out, kind, runs: result.runs, added: result.added, bytes: statSync(out).size };
  } finally {
    scratch.cleanup();
  }
}

/** A saved run or bundle, unpacked (if zipped), checked against its manifest, ready to read. */
export interface StagedSource {
  source: string;
  kind: ExportKind;
  dir: string;
  cleanup: () => void;
}

/** Unpack (zips) and verify a saved run or bundle. Throws ImportError naming the file and problem. */
export async function stageSource(source: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<StagedSource> {
  if (!existsSync(source)) throw new ImportError(source, 'no such file or folder');
  let kind: ExportKind;
  if (isDirectory(source)) {
    kind = existsSync(path.join(source, BUNDLE_JSON)) ? 'grokbundle' : 'grokrun';
    checkFolderNames(source, kind === 'grokbundle' ? isBundleName : isSavedRunName);
    await verifyManifest(source, source);
    return { source, kind, dir: source, cleanup: () => {} };
  }
  if (source.endsWith('.grokbundle')) kind = 'grokbundle';
  else if (source.endsWith('.grokrun')) kind = 'grokrun';
  else throw new ImportError(source, 'not a saved run (.grokrun) or bundle (.grokbundle); for CSV or Parquet from other tools use import --external');
  const scratch = scratchDir('import');
  try {
    await extractZip(source, scratch.dir, kind === 'grokbundle' ? isBundleName : isSavedRunName, limits);
    await verifyManifest(source, scratch.dir);
    return { source, kind, dir: scratch.dir, cleanup: scratch.cleanup };
  } catch (err) {
    scratch.cleanup();
    throw err;
  }
}

export interface StagedRun {
  json: RunJson;
  item: RunImport;
  /** Folder holding this run's files (for checkpoints). */
  dir: string;
}

export interface StagedContent {
  bundle: BundleJson | null;
  runs: StagedRun[];
}

/** Validate every file of a staged source and describe what it would import. */
export async function readStaged(lib: Library, staged: StagedSource): Promise<StagedContent> {
  const sourceName = path.basename(staged.source);
  if (staged.kind === 'grokrun') {
    const { json, item } = await readRunFolder(lib, staged.source, staged.dir);
    return { bundle: null, runs: [{ json, item: { ...item, sourceName }, dir: staged.dir }] };
  }
  const raw = readJsonFile(staged.source, staged.dir, BUNDLE_JSON, z.object({ format: z.unknown(), version: z.unknown() }).passthrough());
  if (raw.format !== 'grokbundle') throw new ImportError(staged.source, `${BUNDLE_JSON} is not a Grokscope bundle (format is ${JSON.stringify(raw.format)})`);
  if (typeof raw.version === 'number' && raw.version > BUNDLE_VERSION) {
    throw new ImportError(staged.source, `${BUNDLE_JSON} has format version ${raw.version}; this Grokscope reads version ${BUNDLE_VERSION} (update Grokscope)`);
  }
  const bundle = readJsonFile(staged.source, staged.dir, BUNDLE_JSON, BundleJsonSchema);
  const folders = new Set(listFiles(staged.dir).filter((n) => n.startsWith('runs/')).map((n) => n.split('/')[1]));
  for (const f of folders) if (!bundle.runs.includes(f)) throw new ImportError(staged.source, `runs/${f} is not listed in ${BUNDLE_JSON}`);
  if (new Set(bundle.runs).size !== bundle.runs.length) throw new ImportError(staged.source, `${BUNDLE_JSON} lists a run twice`);
  const runs: StagedRun[] = [];
  for (const id of bundle.runs) {
    if (!folders.has(id)) throw new ImportError(staged.source, `runs/${id} is listed in ${BUNDLE_JSON} but missing`);
    const { json, item } = await readRunFolder(lib, staged.source, staged.dir, `runs/${id}`);
    if (json.id !== id) throw new ImportError(staged.source, `runs/${id}/run.json has id ${json.id}`);
    runs.push({ json, item: { ...item, sourceName }, dir: path.join(staged.dir, 'runs', id) });
  }
  return { bundle, runs };
}

export type ImportReport =
  | { source: string; ok: true; kind: ExportKind | 'external'; outcomes: RunImportOutcome[]; warnings: string[]; /** A bundle's study spec, when it carries one. */ study?: StudySpec | null; /** Lines for the user besides the outcomes (the study the runs joined). */ notes?: string[] }
  | { source: string; ok: false; error: string };

/**
 * Import each source into the library at `libraryDir`. Each source is all or nothing: a bad file
 * is reported (file and problem) and leaves the library as it was; the others still import.
 */
export async function importSources(libraryDir: string, sources: string[], limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ImportReport[]> {
  return Library.with(libraryDir, (lib) => importSourcesInto(lib, sources, limits));
}

/** importSources on a library that is already open (the app's, or a test's). */
export async function importSourcesInto(lib: Library, sources: string[], limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ImportReport[]> {
  const reports: ImportReport[] = [];
  for (const source of sources) {
    try {
      reports.push(await importOne(lib, source, limits));
    } catch (err) {
      reports.push({ source, ok: false, error: err instanceof ImportError ? err.message : `${path.basename(source)}: ${firstLine(err)}` });
    }
  }
  return reports;
}

async function importOne(lib: Library, source: string, limits: ZipLimits): Promise<ImportReport> {
  const staged = await stageSource(source, limits);
  try {
    const content = await readStaged(lib, staged);
    const runs = content.runs;
    const outcomes = await lib.importRuns(runs.map((r) => r.item));
    const warnings: string[] = [];
    for (const [i, out] of outcomes.entries()) {
      if (out.action === 'unchanged') continue;
      try {
        installCheckpoints(lib.dir, out.id, runs[i].dir, runs[i].json.checkpoints);
      } catch (err) {
        warnings.push(`${out.id}: metrics imported, but its checkpoints could not be copied (${firstLine(err)}); it cannot be resumed`);
      }
    }
    return { source, ok: true, kind: staged.kind, outcomes, warnings, study: content.bundle?.study ?? null };
  } finally {
    staged.cleanup();
  }
}
