import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from './helpers/cli.js';
import { differences, killSpec, runsByKey, studyKilled } from './helpers/kill.js';
import { tempDir } from './helpers/tmp.js';

/**
 * A study whose CLI process is killed outright (SIGKILL: no handler, no checkpoint on the way out)
 * at three moments, then run again to the end, records exactly the runs of the same study run
 * without interruption: every planned run once, completed, with identical metrics and events
 * (training resumes bit-exactly from checkpoints on one backend). `npm run stress:kill` does
 * the same with 20 kills at random moments.
 */
const bin = path.join(root, 'bin', 'grokscope.js');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('a study killed with SIGKILL', () => {
  it('resumes to exactly the runs of an uninterrupted study (killed three times)', async () => {
    const specFile = path.join(tmp.dir, 'killed.json');
    writeFileSync(specFile, JSON.stringify(killSpec));
    const reference = path.join(tmp.dir, 'reference');
    const whole = spawnSync(process.execPath, [bin, 'study', specFile, '--library', reference, '--workers', '2', '--out', path.join(tmp.dir, 'r1')], { encoding: 'utf8', timeout: 300_000 });
    expect(whole.status, whole.stderr).toBe(0);

    const killed = path.join(tmp.dir, 'killed');
    for (const after of [3, 10, 6]) await studyKilled(specFile, killed, { afterCheckpoints: after }, path.join(tmp.dir, 'unused'));
    // The kills interrupted it: something was left to do.
    const before = await runsByKey(killed, 'killed');
    expect([...before.values()].filter((r) => r.status === 'completed').length).toBeLessThan(6);
    const last = spawnSync(process.execPath, [bin, 'study', specFile, '--library', killed, '--workers', '2', '--out', path.join(tmp.dir, 'r2')], { encoding: 'utf8', timeout: 300_000 });
    expect(last.status, `${last.stderr}\n${last.stdout}`).toBe(0);
    expect(await differences(reference, killed, 'killed')).toEqual([]);
  }, 600_000);
});
