import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The folder of Grokscope's own package.json (from source or dist), or null. */
export function packageRoot(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string };
      if (pkg.name === 'grokscope') return dir;
    }
    dir = path.dirname(dir);
  }
  return null;
}

/** Our own version, from the package.json above this module (source or dist). */
function ownVersion(): string {
  const root = packageRoot();
  if (!root) return 'unknown';
  return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Versions recorded with every run: enough to say what computed it. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {
    grokscope: ownVersion(),
    node: process.version,
    'tfjs-core': packageVersion('@tensorflow/tfjs-core'),
    'duckdb-node-api': packageVersion('@duckdb/node-api'),
    platform: `${process.platform}-${process.arch}`,
  };
  if (process.versions.electron) out.electron = process.versions.electron;
  return out;
}
