import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../core/api.js';
import { createTrainingPool } from '../core/runs/pool.js';
import { GrokscopeService } from '../core/service/service.js';
import { studyRunEvents } from '../core/service/live-run.js';
import { reportDirFor } from '../core/service/studies-view.js';
import { PRESETS } from '../core/schema/run-config.js';
import type { StudySummary } from '../core/study/summary.js';
import { verdictText } from '../core/study/stability.js';
import { makeFixtureStudy } from './helpers/fixture-study.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The workbench's studies through the service (listStudies, getStudyReport, dispatch): a finished
 * study as core leaves it (fixture runs, core's reportStudy) and one still running; and a tiny
 * study trained in a real pool, whose runs must arrive as live runs naming their study.
 */
describe('studies in the service', () => {
  const tmp = tempDir();
  const lib = path.join(tmp.dir, 'lib');
  const service = new GrokscopeService(lib, null);
  beforeAll(async () => {
    await makeFixtureStudy(lib, 'done-study');
    await makeFixtureStudy(lib, 'half-study', false);
  }, 60_000);
  afterAll(() => tmp.cleanup());
  const summary = (): StudySummary => JSON.parse(readFileSync(path.join(reportDirFor(lib, 'done-study'), 'summary.json'), 'utf8')) as StudySummary;

  it('lists each study with its progress, status and, once reported, the verdicts its report holds', async () => {
    const list = await service.dispatch('listStudies', []);
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'done-study', status: 'completed', trainingHere: false, total: 4, done: 4, failed: 0, preset: 'fast', conditions: ['baseline', 'mix'], seeds: 2, verdicts: Object.fromEntries(Object.entries(summary().claims).map(([k, c]) => [k, verdictText(c)])) }),
        expect.objectContaining({ name: 'half-study', status: 'running', total: 4, done: 2, verdicts: null }),
      ]),
    );
    expect(list).toHaveLength(2);
  });

  it('opens a finished study’s report as data: its claims, the report’s tables, its PNG figures', async () => {
    const s = summary();
    const r = await service.getStudyReport('done-study');
    expect(r.claims.map((c) => [c.claim, c.verdict, c.rule])).toEqual(Object.entries(s.claims).map(([k, c]) => [k, c.verdict, c.rule]));
    expect(r.probe).toBe(s.probe);
    const table = (id: string) => r.tables.find((t) => t.id === id)!;
    expect(table('onset').rows).toHaveLength(s.onset.length);
    expect(table('onset').rows[0].slice(0, 3)).toEqual([s.onset[0].task, s.onset[0].arch, s.onset[0].probe]);
    expect(table('groups').rows.map((row) => row[2])).toEqual(s.groups.map((g) => g.condition));
    for (const t of r.tables) for (const row of t.rows) expect(row).toHaveLength(t.columns.length);
    const written = readdirSync(path.join(reportDirFor(lib, 'done-study'), 'figures')).filter((f) => f.endsWith('.png'));
    expect(r.figures.map((f) => `${f.name}.png`).sort()).toEqual(written.sort());
    expect(written.length).toBeGreaterThan(0);
    for (const f of r.figures) expect(Buffer.from(f.png, 'base64').subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses, saying why, a study without a report, and a name that is a path', async () => {
    await expect(service.getStudyReport('half-study')).rejects.toThrow(/^study half-study has no report in this library yet: .*grokscope analyze --study half-study/);
    await expect(service.dispatch('getStudyReport', ['../done-study'])).rejects.toThrow(/getStudyReport: invalid arguments/);
    await expect(service.dispatch('getStudyReport', ['..'])).rejects.toThrow(/getStudyReport: invalid arguments/);
  });
});

describe('a study’s runs as live runs', () => {
  it('names the study in each run’s progress and end, and ends a run its group never reported', () => {
    const events: LiveEvent[] = [];
    const hooks = studyRunEvents('s1', (e) => events.push(e));
    const config = { ...PRESETS.fast };
    hooks.progress(config, { runId: 'a', step: config.steps, totalSteps: config.steps, stepsPerSecond: 10, latest: null, backend: 'cpu' });
    hooks.progress(config, { runId: 'b', step: config.steps, totalSteps: config.steps, stepsPerSecond: 10, latest: null, backend: 'cpu' });
    hooks.end('a', 'completed', null);
    hooks.end('never-seen', 'completed', null);
    hooks.close();
    expect(events.map((e) => [e.type, 'id' in e ? e.id : null, 'study' in e ? e.study : null])).toEqual([
      ['run-progress', 'a', 's1'],
      ['run-progress', 'b', 's1'],
      ['run-finished', 'a', 's1'],
      ['run-finished', 'b', 's1'],
    ]);
    expect(events[3]).toMatchObject({ status: 'failed' });
  });

  it('trains a tiny study in the pool with every run under "training now", then lists it with its verdicts', async () => {
    const tmp = tempDir();
    const pool = createTrainingPool(1);
    try {
      const service = new GrokscopeService(path.join(tmp.dir, 'lib'), pool);
      const events: LiveEvent[] = [];
      const finished = new Promise<Extract<LiveEvent, { type: 'study-finished' }>>((resolve) =>
        service.subscribe((e) => {
          events.push(e);
          if (e.type === 'study-finished') resolve(e);
        }),
      );
      const spec = { name: 'tiny', preset: 'fast', overrides: { p: 7, dModel: 8, nHeads: 2, dMlp: 16, steps: 30, evalEvery: 10, spectrumEvery: 10, checkpointEvery: 10 }, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1] };
      await service.startStudy(spec);
      const during = await service.listStudies();
      expect(during).toEqual([expect.objectContaining({ name: 'tiny', status: 'running', trainingHere: true, total: 2 })]);
      const end = await finished;
      expect(end.status).toBe('completed');
      const progressed = new Set(events.filter((e) => e.type === 'run-progress' && e.study === 'tiny').map((e) => (e as { id: string }).id));
      const ended = events.filter((e) => e.type === 'run-finished' && e.study === 'tiny').map((e) => (e as { id: string }).id);
      expect(progressed.size).toBe(2);
      expect(ended.sort()).toEqual([...progressed].sort());
      const [listed] = await service.listStudies();
      expect(listed).toMatchObject({ name: 'tiny', status: 'completed', trainingHere: false, done: 2, verdicts: end.verdicts });
      expect((await service.getStudyReport('tiny')).claims.map((c) => c.text)).toEqual(Object.values(end.verdicts!));
    } finally {
      await pool.destroy();
      tmp.cleanup();
    }
  }, 120_000);
});
