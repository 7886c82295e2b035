import { createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { GrokscopeError, firstLine } from '../errors.js';

/**
 * Zip files that come from elsewhere are hostile until proven otherwise. Reading one here:
 * - names must pass yauzl's checks (no absolute paths, no `..`, no backslashes) AND the caller's
 *   allow-list, and each name may occur once: nothing is ever written outside the staging folder;
 * - limits on the archive size, the number of entries, each entry's and the total uncompressed
 *   size, and the compression ratio of large entries refuse zip bombs before inflating anything;
 * - yauzl checks that each entry inflates to exactly its declared size, and we count bytes as
 *   they are written as well, so a header that lies cannot get past the limits either.
 */
export interface ZipLimits {
  maxArchiveBytes: number;
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio accepted for entries over 1 MiB. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxArchiveBytes: 4 * 2 ** 30,
  maxEntries: 10_000,
  maxEntryBytes: 2 * 2 ** 30,
  maxTotalBytes: 8 * 2 ** 30,
  maxRatio: 200,
};

/** A problem with a file the user gave us; the message names the file and what is wrong. */
export class ImportError extends GrokscopeError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${path.basename(file)}: ${problem}`);
  }
}

class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly onExceed: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(this.onExceed());
    else cb(null, chunk);
  }
}

/**
 * Extract `zipFile` into the empty folder `dest`, accepting only names for which `allowed`
 * returns true. Throws ImportError naming the file and the problem.
 */
export async function extractZip(zipFile: string, dest: string, allowed: (name: string) => boolean, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<string[]> {
  const size = statSync(zipFile).size;
  if (size > limits.maxArchiveBytes) throw new ImportError(zipFile, `file is ${size} bytes, over the ${limits.maxArchiveBytes}-byte limit`);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipFile, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true, autoClose: false });
  } catch (err) {
    throw new ImportError(zipFile, `not a readable zip archive (truncated or corrupted?): ${firstLine(err)}`);
  }
  const names: string[] = [];
  try {
    if (zip.entryCount > limits.maxEntries) throw new ImportError(zipFile, `${zip.entryCount} entries, over the limit of ${limits.maxEntries}`);
    let total = 0;
    const seen = new Set<string>();
    for (;;) {
      let entry: yauzl.Entry | null;
      try {
        entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
          const onEntry = (e: yauzl.Entry): void => {
            cleanup();
            resolve(e);
          };
          const onEnd = (): void => {
            cleanup();
            resolve(null);
          };
          const onError = (e: Error): void => {
            cleanup();
            reject(e);
          };
          const cleanup = (): void => {
            zip.off('entry', onEntry);
            zip.off('end', onEnd);
            zip.off('error', onError);
          };
          zip.on('entry', onEntry);
          zip.on('end', onEnd);
          zip.on('error', onError);
          zip.readEntry();
        });
      } catch (err) {
        const msg = firstLine(err);
        if (/relative path|absolute path|backslash|invalid characters/i.test(msg)) throw new ImportError(zipFile, `unsafe entry name (path traversal?): ${msg}`);
        throw new ImportError(zipFile, `corrupted zip directory: ${msg}`);
      }
      if (!entry) break;
      const name = entry.fileName;
      if (name.endsWith('/')) continue; // directory entries carry no data
      if (!allowed(name)) throw new ImportError(zipFile, `unexpected entry '${name}' (not part of this format)`);
      if (seen.has(name)) throw new ImportError(zipFile, `entry '${name}' occurs twice`);
      seen.add(name);
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        throw new ImportError(zipFile, `entry '${name}' would inflate to ${entry.uncompressedSize} bytes, over the ${limits.maxEntryBytes}-byte limit`);
      }
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) throw new ImportError(zipFile, `contents would inflate to over ${limits.maxTotalBytes} bytes (zip bomb?)`);
      if (entry.uncompressedSize > 2 ** 20 && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
        throw new ImportError(zipFile, `entry '${name}' is compressed ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1, over the ${limits.maxRatio}:1 limit (zip bomb?)`);
      }
      const target = path.join(dest, ...name.split('/'));
      if (!target.startsWith(path.resolve(dest) + path.sep)) throw new ImportError(zipFile, `entry '${name}' points outside the archive`);
      mkdirSync(path.dirname(target), { recursive: true });
      try {
        const stream = await zip.openReadStreamPromise(entry);
        const limit = new ByteLimit(entry.uncompressedSize, () => new Error(`entry '${name}' inflates past its declared size`));
        await pipeline(stream, limit, createWriteStream(target, { flags: 'wx' }));
      } catch (err) {
        throw new ImportError(zipFile, `entry '${name}' cannot be read (corrupted?): ${firstLine(err)}`);
      }
      names.push(name);
    }
  } finally {
    zip.close();
  }
  return names;
}

/** Write `files` (archive name → path on disk) as a zip, atomically: a temporary name, then rename. */
export async function writeZip(out: string, files: [name: string, source: string][]): Promise<void> {
  const zip = new yazl.ZipFile();
  // A fixed timestamp keeps archives of the same content byte-identical.
  const mtime = new Date(Date.UTC(2000, 0, 1));
  for (const [name, source] of files) zip.addFile(source, name, { mtime, mode: 0o100644 });
  const tmp = `${out}.partial-${process.pid}`;
  try {
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(tmp));
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
