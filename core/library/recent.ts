import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The list of recently opened run libraries (most recent first), kept in a small JSON file in the
 * app's settings folder. A damaged or foreign file reads as an empty list (never an error that
 * blocks the app from starting); writes go through a temporary file and a rename.
 */
export const MAX_RECENT = 8;

export function readRecentLibraries(file: string): string[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const list = (parsed as { libraries?: unknown }).libraries;
    if (!Array.isArray(list)) return [];
    return list.filter((x): x is string => typeof x === 'string' && path.isAbsolute(x)).slice(0, MAX_RECENT);
  } catch {
    return [];
  }
}

/** Puts `dir` first (once), keeps at most MAX_RECENT, and returns the new list. */
export function rememberLibrary(file: string, dir: string): string[] {
  const abs = path.resolve(dir);
  const list = [abs, ...readRecentLibraries(file).filter((d) => d !== abs)].slice(0, MAX_RECENT);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: 1, libraries: list }, null, 2));
  renameSync(tmp, file);
  return list;
}

/** The recent libraries that still exist, for a menu. */
export function existingRecentLibraries(file: string): string[] {
  return readRecentLibraries(file).filter((d) => existsSync(d));
}
