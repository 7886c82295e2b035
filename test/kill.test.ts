import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Library } from '../core/library/library.js';
import { tempDir } from './helpers/tmp.js';

/**
 * A study whose CLI process is killed outright (SIGKILL: no handler, no checkpoint on the way out)
 * at three moments, then run again to the end, records exactly the runs of the same study run
 * without interruption: every planned run once, completed, with identical metrics and events
 * (training resumes bit-exactly from checkpoints on one backend).
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'grokscope.js');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const spec = {
  name: 'killed',
  preset: 'quick',
  overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 200, evalEvery: 10, spectrumEvery: 50, checkpointEvery: 20, lr: 0.01, backend: 'wasm' },
  tasks: ['mod-add'],
  archs: ['transformer'],
  conditions: ['baseline', 'mix', 'norm-matched'],
  seeds: [0, 1],
  earlyStopEvals: 0,
};

/** Start the study and SIGKILL it once `checkpoints` checkpoint files have been written. */
function studyKilledAfter(specFile: string, library: string, checkpoints: number): Promise<void> {
  mkdirSync(path.join(library, 'checkpoints'), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'study', specFile, '--library', library, '--workers', '2', '--out', path.join(tmp.dir, 'unused')], { stdio: 'ignore' });
    let seen = 0;
    const watcher = watch(path.join(library, 'checkpoints'), { recursive: true }, (_event, file) => {
      if (!file || !String(file).endsWith('.ckpt')) return;
      if (++seen === checkpoints) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      watcher.close();
      // Killed as intended, or it finished first (then the next invocation finds it complete).
      if (signal === 'SIGKILL' || code === 0) resolve();
      else reject(new Error(`study exited with ${code ?? signal}`));
    });
  });
}

async function runsByKey(library: string, study: string) {
  return Library.with(library, async (lib) => {
    const out = new Map<string, { status: string; metrics: unknown; events: unknown; norms: number[] }>();
    for (const [key, id] of await lib.getStudyRuns(study)) {
      // A kill between the runner deleting a failed run and creating its replacement leaves the key
      // pointing at no run; the next invocation plans it again (core/study/runner.ts).
      if (!(await lib.listRuns()).some((r) => r.id === id)) {
        out.set(key, { status: 'missing', metrics: null, events: null, norms: [] });
        continue;
      }
      const run = await lib.getRun(id);
      out.set(key, { status: run.status, metrics: await lib.getMetrics(id), events: run.events, norms: Array.from(await lib.getStepNorms(id)) });
    }
    return out;
  });
}

describe('a study killed with SIGKILL', () => {
  it('resumes to exactly the runs of an uninterrupted study (killed three times)', async () => {
    const specFile = path.join(tmp.dir, 'killed.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const reference = path.join(tmp.dir, 'reference');
    const whole = spawnSync(process.execPath, [bin, 'study', specFile, '--library', reference, '--workers', '2', '--out', path.join(tmp.dir, 'r1')], { encoding: 'utf8', timeout: 300_000 });
    expect(whole.status, whole.stderr).toBe(0);

    const killed = path.join(tmp.dir, 'killed');
    for (const after of [3, 10, 6]) await studyKilledAfter(specFile, killed, after);
    // The kills interrupted it: something was left to do.
    const before = await runsByKey(killed, 'killed');
    expect([...before.values()].filter((r) => r.status === 'completed').length).toBeLessThan(6);
    const last = spawnSync(process.execPath, [bin, 'study', specFile, '--library', killed, '--workers', '2', '--out', path.join(tmp.dir, 'r2')], { encoding: 'utf8', timeout: 300_000 });
    expect(last.status, `${last.stderr}\n${last.stdout}`).toBe(0);

    const want = await runsByKey(reference, 'killed');
    const got = await runsByKey(killed, 'killed');
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    expect(got.size).toBe(6);
    const ids = await Library.with(killed, async (lib) => (await lib.listRuns()).length);
    expect(ids).toBe(6); // nothing trained twice under another id
    for (const [key, w] of want) {
      const g = got.get(key)!;
      expect(g.status, key).toBe('completed');
      expect(g.metrics, key).toEqual(w.metrics);
      expect(g.events, key).toEqual(w.events);
      expect(g.norms, key).toEqual(w.norms);
    }
  }, 600_000);
});
