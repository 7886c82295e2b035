import os from 'node:os';
import path from 'node:path';

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

/** A run's checkpoints: one folder per run inside the library folder. */
export function checkpointDirFor(libraryDir: string, runId: string): string {
  return path.join(libraryDir, 'checkpoints', runId);
}

/** Where `auto` keeps the backend speeds it measured for this machine (core/train/backend-speed.ts). */
export function speedFileFor(libraryDir: string): string {
  return path.join(libraryDir, 'backend-speed.json');
}
