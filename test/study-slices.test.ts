import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';
import { Library } from '../core/library/library.js';
import { createTrainingPool } from '../core/runs/pool.js';
import { runStudy } from '../core/study/runner.js';
import { resolveStudySpec } from '../core/study/spec.js';
import { GroupClock, graceFor, parseTimeBudget, type SliceReport } from '../core/study/slice.js';
import { planRuns } from '../core/study/spec.js';

/**
 * A study in slices (`study SPEC --time-budget`, core/study/slice.ts): a slice trains only the
 * groups it expects to end within its budget, exits 0 saying what is left, and the next
 * invocation continues; the runs then equal those of one uninterrupted study (keys, metrics).
 * A group still training past the budget and its grace is stopped at a checkpoint and resumed.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'grokscope.js');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const spec = {
  name: 'slices',
  preset: 'fast',
  overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 100, evalEvery: 10, spectrumEvery: 50, checkpointEvery: 50, lr: 0.01 },
  tasks: ['mod-add'],
  archs: ['transformer'],
  conditions: ['baseline'],
  seeds: [0, 1],
  earlyStopEvals: 0,
};
const specFile = path.join(tmp.dir, 'slices.json');
writeFileSync(specFile, JSON.stringify(spec));

function study(lib: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'study', specFile, '--library', path.join(tmp.dir, lib), '--workers', '1', ...args], { cwd: tmp.dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** key → metrics of a library's study runs, and their ids. */
async function studyRuns(lib: string, name = spec.name): Promise<{ ids: Map<string, string>; metrics: Map<string, unknown> }> {
  return Library.with(path.join(tmp.dir, lib), async (l) => {
    const ids = await l.getStudyRuns(name);
    const metrics = new Map<string, unknown>();
    for (const [key, id] of ids) {
      expect((await l.getRun(id)).status, key).toBe('completed');
      metrics.set(key, await l.getMetrics(id));
    }
    return { ids, metrics };
  });
}

describe('time budgets', () => {
  it('reads durations and sizes the grace', () => {
    expect(parseTimeBudget('9m')).toBe(540);
    expect(parseTimeBudget('90s')).toBe(90);
    expect(parseTimeBudget('1.5h')).toBe(5400);
    expect(parseTimeBudget('1h30m')).toBe(5400);
    for (const bad of ['9', 'm', '-3m', '9 minutes', '0s']) expect(parseTimeBudget(bad), bad).toBeNull();
    expect(graceFor(60)).toBe(30);
    expect(graceFor(3600)).toBe(360);
  });

  it('estimates a group from this invocation’s timings first, else the library’s rates (its slowest run), else not at all', () => {
    const plan = planRuns(resolveStudySpec(spec));
    const measured = [{ ...plan[0].config, steps: 50, seconds: 1 }];
    const clock = new GroupClock(measured);
    expect(clock.estimate([plan[0]])).toBeCloseTo(plan[0].config.steps / 50);
    expect(new GroupClock([]).estimate([plan[0]])).toBeNull();
    clock.record([plan[0]], 10, 100); // slower here and now: 0.1 s a step
    expect(clock.estimate([plan[1]])).toBeCloseTo(plan[1].config.steps * 0.1);
  });
});

describe('a study in slices', () => {
  it('trains part within the budget, exits 0 with what is left, and continued equals one uninterrupted study', async () => {
    const whole = study('whole', ['--out', 'report-whole']);
    expect(whole.code, whole.stderr).toBe(0);

    const first = study('sliced', ['--time-budget', '3s', '--out', 'report-sliced']);
    expect(first.code, first.stderr).toBe(0);
    const line = first.stdout.trim().split('\n').pop()!;
    const m = /^time budget 3s: trained (\d) of 2 run groups in \S+; (\d) left \((≈ \S+ at the measured rate|time not known yet)\); no report until every run is done; run the same command again to continue$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(Number(m![1]) + Number(m![2])).toBe(2);
    expect(Number(m![2])).toBeGreaterThanOrEqual(1);
    expect(existsSync(path.join(tmp.dir, 'report-sliced', 'summary.json'))).toBe(false); // no analysis of a part
    const kept = (await Library.with(path.join(tmp.dir, 'sliced'), (l) => l.getStudyRuns(spec.name))) as Map<string, string>;

    const second = study('sliced', ['--time-budget', '10m', '--out', 'report-sliced', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const out = JSON.parse(second.stdout.trim().split('\n').pop()!) as { slice: SliceReport & { line: string }; summary: string };
    expect(out.slice.left).toBe(0);
    expect(out.slice.doneBefore).toBe(Number(m![1]));
    expect(out.slice.line).toMatch(/; none left$/);
    expect(existsSync(out.summary)).toBe(true);

    const a = await studyRuns('whole');
    const b = await studyRuns('sliced');
    expect([...b.ids.keys()].sort()).toEqual([...a.ids.keys()].sort());
    for (const [key, id] of kept) expect(b.ids.get(key), `${key} kept its run`).toBe(id);
    for (const [key, metrics] of a.metrics) expect(b.metrics.get(key), key).toEqual(metrics);
  }, 120_000);

  it('stops a group still training past the budget and its grace at a checkpoint; continued, its runs equal the uninterrupted ones', async () => {
    // Runs long enough (3,000 steps) that the stop, asked for after step 30, reaches the worker
    // long before the run could end by itself, however fast the machine evaluates.
    const long = resolveStudySpec({ ...spec, name: 'slices-long', overrides: { ...spec.overrides, steps: 3000, checkpointEvery: 1000 } });
    const pool = createTrainingPool(1);
    const libraryDir = path.join(tmp.dir, 'stopped');
    try {
      const whole = await runStudy({ spec: long, libraryDir: path.join(tmp.dir, 'whole-long'), pool });
      expect(whole.every((r) => r.status === 'completed')).toBe(true);
      let report: SliceReport | null = null;
      // Nothing is known, so the first group starts (to be measured). A clock that jumps an hour
      // ahead once its run has trained 30 steps: the group is past the budget and its grace, and
      // stops at its next step; the other group is not started.
      let jump = 0;
      const now = (): number => Date.now() + jump;
      const first = await runStudy({
        spec: long,
        libraryDir,
        pool,
        onProgress: (p) => {
          if ([...p.running.values()].some((r) => r.step >= 30)) jump = 3_600_000;
        },
        budget: { seconds: 60, graceSeconds: 0, workers: 1, measured: [], now, onDone: (r) => (report = r) },
      });
      expect(first.map((r) => r.status).sort()).toEqual(['deferred', 'stopped']);
      const stoppedAt = await Library.with(libraryDir, async (l) => (await l.getRun(first.find((r) => r.status === 'stopped')!.runId!)).stepsDone);
      expect(stoppedAt).toBeGreaterThanOrEqual(30);
      expect(stoppedAt).toBeLessThan(3000);
      expect(report).toMatchObject({ groups: 2, trained: 1, left: 2, stoppedAtLimit: 1 });
      expect(await Library.with(libraryDir, (l) => l.listStudies())).toEqual([expect.objectContaining({ id: long.name, status: 'incomplete' })]);
      const again = await runStudy({ spec: long, libraryDir, pool });
      expect(again.every((r) => r.status === 'completed')).toBe(true);
      expect(again.find((r) => first.some((f) => f.status === 'stopped' && f.key === r.key))!.runId).toBe(first.find((f) => f.status === 'stopped')!.runId);
    } finally {
      await pool.destroy();
    }
    const a = await studyRuns('whole-long', 'slices-long');
    const b = await studyRuns('stopped', 'slices-long');
    expect(a.metrics.size).toBe(2);
    for (const [key, metrics] of a.metrics) expect(b.metrics.get(key), key).toEqual(metrics);
  }, 120_000);
});
