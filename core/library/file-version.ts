import { statSync } from 'node:fs';
import { LibraryDb } from './db.js';

/**
 * A library's version as its files show it: device, inode, size and modification time of the
 * database file and of its write-ahead log. Every committed write, by this process or another,
 * changes one of them (a commit appends to the WAL; a checkpoint rewrites the file and empties
 * the WAL; a rebuild puts a new file in place); reading changes neither (measured: a session
 * that only reads leaves both untouched). So an unchanged version means unchanged contents, and
 * a reader may reuse what it read at that version — for the price of two stat calls (~µs)
 * instead of a DuckDB session (~30 ms, nearly all of it DuckDB creating its instance).
 *
 * One caveat makes `settled` necessary: the kernel stamps modification times from a coarse
 * clock (a few ms), so two writes within one tick can leave the same time (and, for in-place
 * block writes, the same size). A version whose files were last modified at least
 * SETTLE_MS before it was taken cannot be repeated by a later write, which is stamped later.
 */
export const SETTLE_MS = 50;

export interface LibraryVersion {
  key: string;
  /** Both files last modified at least SETTLE_MS before `now`: safe to cache under `key`. */
  settled: boolean;
  /** Milliseconds until it is settled (0 when it is). */
  settlesInMs: number;
}

function fileStamp(file: string): { key: string; mtimeMs: number } | null {
  try {
    const s = statSync(file, { bigint: true });
    return { key: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`, mtimeMs: Number(s.mtimeNs / 1_000_000n) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The version of the library in `dir`, or null when it has no database file yet. */
export function libraryVersion(dir: string, now = Date.now()): LibraryVersion | null {
  const file = LibraryDb.dbPath(dir);
  const db = fileStamp(file);
  if (!db) return null;
  const wal = fileStamp(`${file}.wal`);
  const newest = Math.max(db.mtimeMs, wal?.mtimeMs ?? 0);
  const settlesInMs = Math.max(0, Math.ceil(newest + SETTLE_MS - now));
  return { key: `${db.key}|${wal?.key ?? '-'}`, settled: settlesInMs === 0, settlesInMs };
}
