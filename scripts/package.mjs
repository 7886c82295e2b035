#!/usr/bin/env node
/**
 * `npm run package [-- --out DIR]`: the desktop app as a Debian package, from a local Electron
 * zip — `electron-v<version>-linux-x64.zip` for the version in node_modules/electron, found in
 * $ELECTRON_ZIP_DIR or in electron's download cache ($electron_config_cache, else
 * ~/.cache/electron). Without it, one line and exit 1: these machines cannot download Electron.
 *
 * Why not Electron Forge's deb maker: `npm install @electron-forge/cli@7 @electron-forge/maker-deb@7`
 * fails here — Forge 7 pulls @electron/node-gyp from codeload.github.com (ENOTFOUND from these
 * machines) — and Forge 8 needs Node ≥ 22.13. What its deb maker does is small: lay out
 * /opt/grokscope (Electron with our app in resources/app), a desktop entry and /usr/bin link, and
 * call dpkg-deb under fakeroot — so we do that ourselves (docs/decisions.md).
 *
 * The app folder holds package.json, the electron-vite build (out/), the Node build (dist/, where
 * the training workers run from) and the production dependency closure of node_modules
 * (`npm ls --omit=dev --all --parseable`).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

const root = path.resolve(import.meta.dirname, '..');
const argOut = process.argv.indexOf('--out');
const outDir = path.resolve(argOut > 0 ? process.argv[argOut + 1] : path.join(root, 'out', 'make'));
const fail = (msg) => {
  process.stderr.write(`grokscope package: ${msg}\n`);
  process.exit(1);
};
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
const zipName = `electron-v${electronVersion}-linux-x64.zip`;

function findZip() {
  if (process.env.ELECTRON_ZIP_DIR) {
    const f = path.join(process.env.ELECTRON_ZIP_DIR, zipName);
    return existsSync(f) ? f : null;
  }
  const cache = process.env.electron_config_cache ?? path.join(os.homedir(), '.cache', 'electron');
  if (!existsSync(cache)) return null;
  // electron's cache keeps each download in a folder named by a hash of its URL.
  for (const entry of [zipName, ...readdirSync(cache).map((d) => path.join(d, zipName))]) if (existsSync(path.join(cache, entry))) return path.join(cache, entry);
  return null;
}

const zip = findZip();
if (!zip) fail(`no ${zipName} (Electron ${electronVersion} for linux-x64): put it in a folder and set ELECTRON_ZIP_DIR to that folder, or leave it in electron's cache (~/.cache/electron); nothing was built`);
for (const tool of ['dpkg-deb', 'fakeroot']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) fail(`${tool} is missing: install Debian's ${tool === 'dpkg-deb' ? 'dpkg' : 'fakeroot'} package; nothing was built`);
}

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status}); nothing was packaged`);
};
process.stderr.write('building the app (electron-vite, tsc)…\n');
run('npx', ['electron-vite', 'build']);
run('npm', ['run', '-s', 'build:node']);

/** Extract a zip with its files' modes (Electron's binary must stay executable). */
async function extract(file, dest) {
  const z = await new Promise((res, rej) => yauzl.open(file, { lazyEntries: true }, (e, f) => (e ? rej(e) : res(f))));
  await new Promise((resolve, reject) => {
    z.on('error', reject);
    z.on('end', resolve);
    z.on('entry', (entry) => {
      const target = path.join(dest, entry.fileName);
      if (!target.startsWith(dest + path.sep)) return reject(new Error(`entry ${entry.fileName} points outside the archive`));
      if (entry.fileName.endsWith('/')) {
        mkdirSync(target, { recursive: true });
        z.readEntry();
        return;
      }
      mkdirSync(path.dirname(target), { recursive: true });
      z.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        pipeline(stream, createWriteStream(target))
          .then(() => {
            const mode = (entry.externalFileAttributes >>> 16) & 0o777;
            if (mode) chmodSync(target, mode);
            z.readEntry();
          })
          .catch(reject);
      });
    });
    z.readEntry();
  });
}

const stage = mkdtempSync(path.join(os.tmpdir(), 'grokscope-deb-'));
try {
  const appRoot = path.join(stage, 'opt', 'grokscope');
  mkdirSync(appRoot, { recursive: true });
  process.stderr.write(`laying out /opt/grokscope from ${zip}…\n`);
  await extract(zip, appRoot);
  if (!existsSync(path.join(appRoot, 'electron'))) fail(`${zip} has no 'electron' executable at its top: not an Electron zip for Linux`);
  renameSync(path.join(appRoot, 'electron'), path.join(appRoot, 'grokscope'));
  chmodSync(path.join(appRoot, 'grokscope'), 0o755);
  const app = path.join(appRoot, 'resources', 'app');
  mkdirSync(app, { recursive: true });
  const { name, version, description, main, type, dependencies, optionalDependencies } = pkg;
  writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name, version, description, main, type, dependencies, optionalDependencies }, null, 2)}\n`);
  for (const dir of ['out', 'dist']) cpSync(path.join(root, dir), path.join(app, dir), { recursive: true });
  // The production closure: each listed package's own files (its nested node_modules are listed too).
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').filter((p) => p.startsWith(path.join(root, 'node_modules')));
  for (const dir of listed) {
    cpSync(dir, path.join(app, path.relative(root, dir)), { recursive: true, filter: (src) => src === dir || path.relative(dir, src).split(path.sep)[0] !== 'node_modules' });
  }
  mkdirSync(path.join(stage, 'usr', 'bin'), { recursive: true });
  symlinkSync('../../opt/grokscope/grokscope', path.join(stage, 'usr', 'bin', 'grokscope'));
  mkdirSync(path.join(stage, 'usr', 'share', 'applications'), { recursive: true });
  writeFileSync(
    path.join(stage, 'usr', 'share', 'applications', 'grokscope.desktop'),
    ['[Desktop Entry]', 'Type=Application', 'Name=Grokscope', `Comment=${description}`, 'Exec=/opt/grokscope/grokscope %U', 'Categories=Science;Education;', 'Terminal=false', ''].join('\n'),
  );
  mkdirSync(path.join(stage, 'DEBIAN'));
  writeFileSync(
    path.join(stage, 'DEBIAN', 'control'),
    [`Package: grokscope`, `Version: ${version}`, 'Architecture: amd64', 'Maintainer: Grokscope developers <grokscope@localhost>', 'Section: science', 'Priority: optional', 'Depends: libgtk-3-0, libnss3, libxss1, libgbm1, libasound2 | libasound2t64', `Description: ${description}`, ''].join('\n'),
  );
  mkdirSync(outDir, { recursive: true });
  const deb = path.join(outDir, `grokscope_${version}_amd64.deb`);
  process.stderr.write('dpkg-deb…\n');
  const r = spawnSync('fakeroot', ['dpkg-deb', '--root-owner-group', '-Zgzip', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail(`dpkg-deb failed (exit ${r.status})`);
  process.stdout.write(`${deb}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
