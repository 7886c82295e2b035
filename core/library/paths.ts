import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GrokscopeError } from '../errors.js';

/**
 * Where the run library lives: `--library DIR`, else $GROKSCOPE_LIBRARY, else the folder the
 * desktop app uses (Electron's userData for the product name "Grokscope" + /library), so the CLI
 * and the app share runs by default.
 */
export function userDataDir(): string {
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Grokscope');
    case 'win32':
      return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Grokscope');
    default:
      return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Grokscope');
  }
}

export function resolveLibraryDir(flag?: string): string {
  if (flag) return path.resolve(flag);
  if (process.env.GROKSCOPE_LIBRARY) return path.resolve(process.env.GROKSCOPE_LIBRARY);
  return path.join(userDataDir(), 'library');
}

/** A library folder that cannot be created, read or written; one line naming it and why. */
export class LibraryPathError extends GrokscopeError {}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a file is in the way',
  EEXIST: 'a file is in the way',
  ENOSPC: 'no space left on the device',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/** Why `dir` failed, in words, naming the folder the failure was met at when it is another. */
function reason(err: unknown, dir: string): string {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  const at = e.path ?? dir;
  // ENOENT after the parent was made means the parent refuses children (procfs), not that it is missing.
  const why = code === 'ENOENT' ? `${path.dirname(at)} cannot hold new folders` : (REASONS[code] ?? e.message.split('\n')[0]);
  return `${why}${code !== 'ENOENT' && at !== dir ? ` at ${at}` : ''}${code ? ` (${code})` : ''}`;
}

/** A folder (following links); false for a file or a dangling link in the way. */
function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `mkdir -p` that always ends. Node's `mkdirSync(dir, { recursive: true })` never returns when a
 * parent exists but mkdir in it answers ENOENT — any path under /proc, or below a dangling
 * symbolic link: it makes the parent (EEXIST, fine), retries the child (ENOENT) and loops at
 * 100 % CPU inside one synchronous call (`list --library /proc/grok` spun for ten minutes,
 * issue 35). Here each folder is tried at most twice: once, and once more after its parent.
 */
export function makeDirs(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!isFolder(dir)) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR', path: dir });
      return;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeDirs(parent);
  }
  // The parent is now a folder; a second ENOENT means it cannot hold this one (procfs), not that
  // it is missing, so it is thrown rather than retried.
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isFolder(dir)) return;
    throw err;
  }
}

/**
 * The library folder of a command, checked before anything runs: created if missing, and a
 * folder this process may read and write (DuckDB opens its file read-write and keeps its
 * write-ahead log beside it). Refused in one line otherwise — at once, not after a pool of
 * workers has started or a retry loop has spun.
 */
export function usableLibraryDir(flag?: string): string {
  const dir = resolveLibraryDir(flag);
  const hint = flag ? '' : ' (choose another with --library DIR or $GROKSCOPE_LIBRARY)';
  try {
    makeDirs(dir);
  } catch (err) {
    throw new LibraryPathError(`cannot use library folder ${dir}: cannot create it: ${reason(err, dir)}${hint}`);
  }
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new LibraryPathError(`cannot use library folder ${dir}: cannot read and write it: ${reason(err, dir)}${hint}`);
  }
  return dir;
}

/** A run's checkpoints: one folder per run inside the library folder. */
export function checkpointDirFor(libraryDir: string, runId: string): string {
  return path.join(libraryDir, 'checkpoints', runId);
}

/** Where `auto` keeps the backend speeds it measured for this machine (core/train/backend-speed.ts). */
export function speedFileFor(libraryDir: string): string {
  return path.join(libraryDir, 'backend-speed.json');
}
