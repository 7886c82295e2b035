import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ImportError } from './zip.js';
import { firstLine } from '../errors.js';

/**
 * `manifest.json`: the SHA-256 and size of every other file of a saved run or bundle. Any changed,
 * missing or added byte is detected on import. (It detects corruption and edits; it is not a
 * signature: whoever edits a file can also rewrite the manifest.)
 */
export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_VERSION = 1;

const ManifestSchema = z
  .object({
    format: z.literal('grokscope-manifest'),
    version: z.number().int().positive(),
    algorithm: z.literal('sha256'),
    files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }).strict()),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file under `dir`, as archive names with forward slashes, sorted. */
export function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, name));
    else if (entry.isFile()) out.push(name);
    else throw new Error(`${name} is neither a file nor a folder`);
  }
  return out.sort();
}

/** Write the manifest of every file under `dir` (except itself). */
export async function writeManifest(dir: string): Promise<Manifest> {
  const files: Manifest['files'] = {};
  for (const name of listFiles(dir)) {
    if (name === MANIFEST_NAME) continue;
    const file = path.join(dir, ...name.split('/'));
    files[name] = { sha256: await sha256File(file), bytes: statSync(file).size };
  }
  const manifest: Manifest = { format: 'grokscope-manifest', version: MANIFEST_VERSION, algorithm: 'sha256', files };
  writeFileSync(path.join(dir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Parse a JSON file with a schema; errors name the file and the first bad field. */
export function readJsonFile<T>(source: string, dir: string, name: string, schema: z.ZodType<T>): T {
  const file = path.join(dir, ...name.split('/'));
  if (!existsSync(file)) throw new ImportError(source, `${name} is missing`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ImportError(source, `${name} is not valid JSON (${firstLine(err)})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new ImportError(source, `${name}: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** Check every file under `dir` against its manifest: same set of files, same sizes and hashes. */
export async function verifyManifest(source: string, dir: string): Promise<Manifest> {
  const raw = readJsonFile(source, dir, MANIFEST_NAME, z.object({ version: z.number() }).passthrough());
  if (raw.version > MANIFEST_VERSION) throw new ImportError(source, `manifest version ${raw.version} is newer than this Grokscope reads (${MANIFEST_VERSION}); update Grokscope`);
  const manifest = readJsonFile(source, dir, MANIFEST_NAME, ManifestSchema);
  const present = listFiles(dir).filter((n) => n !== MANIFEST_NAME);
  for (const name of present) if (!(name in manifest.files)) throw new ImportError(source, `${name} is not in the manifest (added after export?)`);
  for (const [name, want] of Object.entries(manifest.files)) {
    const file = path.join(dir, ...name.split('/'));
    if (!present.includes(name)) throw new ImportError(source, `${name} is listed in the manifest but missing`);
    const bytes = statSync(file).size;
    if (bytes !== want.bytes) throw new ImportError(source, `${name} has ${bytes} bytes, the manifest says ${want.bytes} (truncated or modified)`);
    if ((await sha256File(file)) !== want.sha256) throw new ImportError(source, `${name} does not match its SHA-256 in the manifest (modified or corrupted)`);
  }
  return manifest;
}
