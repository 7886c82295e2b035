import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Library } from '../core/library/library.js';
import { archiveRun } from '../core/library/archive.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { lastJson, root, runCli, type CliResult } from './helpers/cli.js';
import { scratchFolders } from './helpers/tmp.js';

/**
 * A write that finds no room. The CLI runs under a file-size limit (`ulimit -f`, RLIMIT_FSIZE):
 * every write past the limit fails with EFBIG, as writes to a full disk fail with ENOSPC, without
 * needing a tiny filesystem (which would need root to mount). The limit applies per file and per
 * offset, so a small one stops DuckDB's write-ahead log and a larger one only the checkpoints.
 */
const folder = scratchFolders(afterEach);
const bin = path.join(root, 'bin', 'grokscope.js');

function cliWithFileLimit(kib: number, args: string[]): CliResult {
  const r = spawnSync('bash', ['-c', 'ulimit -f "$0" && exec "$@"', String(kib), process.execPath, bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The last stderr line (progress bars come before it), checked to be the only error line. */
function errorLine(r: CliResult): string {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('grokscope:'));
  expect(errors).toHaveLength(1);
  return errors[0];
}

// mod-sq-sum has no progress measures, so no progress snapshots: the database and the final
// checkpoint are the first writes to outgrow the limits below (a mod-add run's step-0 snapshot
// outgrows them first: the last test).
const mlp = ['--preset', 'fast', '--arch', 'mlp', '--task', 'mod-sq-sum', '--json'];

/** A library holding one completed run, archived as a trained run is (so `library check` has nothing else to say). */
async function libraryWithKeptRun(): Promise<string> {
  const dir = folder();
  await makeFixtureRun(dir, { id: 'kept' });
  await archiveRun(dir, 'kept');
  return dir;
}

/** The run the limited CLI started beside `kept`, with `kept` still completed. */
async function newRun(dir: string): Promise<{ id: string; status: string }> {
  const runs = await Library.with(dir, (lib) => lib.listRuns());
  expect(runs.find((x) => x.id === 'kept')!.status).toBe('completed');
  return runs.find((x) => x.id !== 'kept')!;
}

describe('a write that finds no room', () => {
  it('the library database: one line naming it, the library readable, the run resumable to the same result', async () => {
    const dir = await libraryWithKeptRun();
    const r = cliWithFileLimit(16, ['run', ...mlp, '--steps', '2000', '--library', dir]);
    const line = errorLine(r);
    expect(line).toContain(`cannot write library database ${Library.dbPath(dir)}: no room left`);
    expect(line).toMatch(/resume it: grokscope run --resume mod-sq-sum-mlp-s0-/);

    const failed = await newRun(dir);
    expect(failed.status).toBe('failed');
    expect(runCli(['library', 'check', '--library', dir]).code).toBe(0);

    const resumed = runCli(['run', '--resume', failed.id, '--library', dir, '--json']);
    expect(resumed.code).toBe(0);
    const clean = folder();
    const reference = runCli(['run', ...mlp, '--steps', '2000', '--library', clean]);
    expect(lastJson(resumed.stdout)).toMatchObject({ status: 'completed', final: (lastJson(reference.stdout) as { final: unknown }).final });
  }, 120_000);

  it('a checkpoint: one line naming the file, no partial file left, the library readable', async () => {
    const dir = await libraryWithKeptRun();
    // 100 KiB: room for the log of 400 steps' evaluations, not for the MLP's final checkpoint (~640 KiB).
    const r = cliWithFileLimit(100, ['run', ...mlp, '--steps', '400', '--library', dir]);
    const line = errorLine(r);
    expect(line).toMatch(/cannot write checkpoint .*step-00000400\.ckpt: no room left \(EFBIG/);
    const failed = await newRun(dir);
    expect(failed.status).toBe('failed');
    expect(readdirSync(path.join(dir, 'checkpoints', failed.id)).filter((f) => f.includes('.tmp'))).toEqual([]);
    // The copy shows the library opens for a reader that has no limit, as the user's next command does.
    const copy = folder();
    cpSync(dir, copy, { recursive: true });
    expect(runCli(['library', 'check', '--library', copy]).code).toBe(0);
  }, 120_000);

  it('a progress snapshot: one line naming the file, no partial file left', async () => {
    const dir = await libraryWithKeptRun();
    const r = cliWithFileLimit(100, ['run', '--preset', 'fast', '--arch', 'mlp', '--json', '--steps', '400', '--library', dir]);
    expect(errorLine(r)).toMatch(/cannot write checkpoint .*progress\/step-00000000\.ckpt: no room left \(EFBIG/);
    const failed = await newRun(dir);
    expect(failed.status).toBe('failed');
    expect(readdirSync(path.join(dir, 'checkpoints', failed.id, 'progress')).filter((f) => f.includes('.tmp'))).toEqual([]);
  }, 120_000);
});
