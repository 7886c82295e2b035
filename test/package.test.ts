import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers/cli.js';

/**
 * `npm run package` needs a local Electron zip; these machines cannot download one, so the
 * default suite checks the refusal: one line naming the file it looked for and where, exit 1,
 * nothing built. (With a stand-in zip the whole path was run by hand; the closing note and
 * README say how long it took and what the .deb held.)
 */
describe('npm run package', () => {
  it('says in one line which Electron zip it needs and where it looked, and exits 1, when there is none', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'grokscope-nozip-'));
    try {
      const version = JSON.parse(readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version as string;
      for (const env of [{ ELECTRON_ZIP_DIR: empty }, { HOME: empty, electron_config_cache: path.join(empty, 'cache') }]) {
        const clean = { ...process.env };
        delete clean.ELECTRON_ZIP_DIR;
        delete clean.electron_config_cache;
        const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), '--out', path.join(empty, 'out')], { cwd: root, encoding: 'utf8', env: { ...clean, ...env } });
        expect(r.status).toBe(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toBe(
          `grokscope package: no electron-v${version}-linux-x64.zip (Electron ${version} for linux-x64): put it in a folder and set ELECTRON_ZIP_DIR to that folder, or leave it in electron's cache (~/.cache/electron); nothing was built`,
        );
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
