import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { makeDirs, usableLibraryDir } from '../core/library/paths.js';

/**
 * A library path the CLI cannot use is refused in one line, at once (issue 35: `list --library
 * /proc/grok` spun at 100 % CPU for ten minutes inside Node's recursive mkdir). Each command runs
 * in a child process with a time limit, so a regression fails as a timeout instead of hanging the
 * suite; /proc refuses new folders even to root, which these tests may run as.
 */
const bin = path.join(root, 'bin', 'grokscope.js');
const LIMIT_MS = 30_000;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function cli(args: string[]): { code: number | null; stdout: string; stderr: string; timedOut: boolean } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: LIMIT_MS, env: { ...process.env, GROKSCOPE_LIBRARY: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' || r.signal !== null };
}

/** Answered before the limit, non-zero, one line on stderr matching `pattern`, no stack, nothing on stdout. */
function expectRefused(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toEqual([expect.stringMatching(pattern)]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

describe('CLI on a library path it cannot use', () => {
  it.each([['list'], ['library', 'check'], ['show', 'some-run']])('%s under /proc answers in one line', (...cmd) => {
    expectRefused(cli([...cmd, '--library', '/proc/grok']), /^grokscope: cannot use library folder \/proc\/grok: cannot create it: \/proc cannot hold new folders/);
  });

  it('run refuses before it trains (no worker, no spin), deep under /proc too', () => {
    expectRefused(cli(['run', '--steps', '10', '--library', '/proc/grok/deeper/lib']), /cannot use library folder \/proc\/grok\/deeper\/lib: cannot create it: \/proc cannot hold/);
  });

  it('serve refuses at start in one line and prints no URL', () => {
    expectRefused(cli(['serve', '--workers', '1', '--library', '/proc/grok']), /^grokscope: cannot use library folder \/proc\/grok/);
  });

  it('a file in place of the folder, or below it, is named as in the way', () => {
    const file = path.join(tmp.dir, 'not-a-folder');
    writeFileSync(file, 'x');
    expectRefused(cli(['list', '--library', file]), /cannot use library folder .*not-a-folder: cannot create it: a file is in the way \(ENOTDIR\)/);
    expectRefused(cli(['serve', '--library', path.join(file, 'lib')]), /cannot use library folder .*not-a-folder\/lib: cannot create it: a file is in the way/);
  });

  it('a dangling symbolic link in the path is refused, not looped on', () => {
    const link = path.join(tmp.dir, 'dangling');
    symlinkSync(path.join(tmp.dir, 'nowhere'), link);
    expectRefused(cli(['list', '--library', path.join(link, 'lib')]), /a file is in the way at .*dangling \(ENOTDIR\)/);
    expect(existsSync(path.join(tmp.dir, 'nowhere'))).toBe(false);
  });

  it('serve refuses a library whose database it cannot open, before listening', () => {
    const lib = path.join(tmp.dir, 'damaged');
    mkdirSync(lib);
    writeFileSync(path.join(lib, 'grokscope.duckdb'), Buffer.alloc(20_000, 7));
    expectRefused(cli(['serve', '--workers', '1', '--library', lib]), /^grokscope: library database .*grokscope\.duckdb is damaged/);
  });

  it('a library from $GROKSCOPE_LIBRARY is refused with how to choose another', () => {
    const r = spawnSync(process.execPath, [bin, 'list'], { cwd: root, encoding: 'utf8', timeout: LIMIT_MS, env: { ...process.env, GROKSCOPE_LIBRARY: '/proc/grok' } });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^grokscope: cannot use library folder \/proc\/grok: .*choose another with --library DIR or \$GROKSCOPE_LIBRARY\)$/);
  });

  it('a usable path still works: created on first use, one line of output', () => {
    const lib = path.join(tmp.dir, 'a', 'b', 'lib');
    const r = cli(['list', '--library', lib]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no runs\n');
    expect(readdirSync(lib)).toContain('grokscope.duckdb');
  });
});

describe('makeDirs and usableLibraryDir', () => {
  it('creates nested folders and accepts existing ones', () => {
    const dir = path.join(tmp.dir, 'm', 'n', 'o');
    makeDirs(dir);
    makeDirs(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(usableLibraryDir(dir)).toBe(dir);
  });

  it('throws the error of the folder that refused, with its path', () => {
    const file = path.join(tmp.dir, 'plain-file');
    writeFileSync(file, '');
    expect(() => makeDirs(path.join(file, 'x', 'y'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => usableLibraryDir(file)).toThrow(/^cannot use library folder .*plain-file: cannot create it: a file is in the way \(ENOTDIR\)$/);
  });
});
