import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrokscopeService } from '../core/service/service.js';
import { pointFromRecord } from '../core/service/points.js';
import { fixtureRecord, makeFixtureRun } from './helpers/fixture-run.js';

describe('service', () => {
  let dir: string;
  let id: string;
  const service = (): GrokscopeService => new GrokscopeService(dir, null);
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'grokscope-service-'));
    id = await makeFixtureRun(dir, { id: 'csv-run' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports one run as the CLI’s CSV, and refuses two runs in one line', async () => {
    const file = await service().exportRuns([id.slice(0, 5)], 'csv');
    expect(file.name).toBe('csv-run.csv');
    const lines = Buffer.from(file.base64, 'base64').toString('utf8').trimEnd().split('\n');
    expect(lines[0].split(',')).toEqual(expect.arrayContaining(['step', 'test_acc', 'entropy.resid.final', 'eff_rank.embed', 'fourier_gini']));
    expect(lines).toHaveLength(1 + 4); // header and the fixture's four evaluations
    const col = lines[0].split(',').indexOf('test_acc');
    expect(Number(lines[2].split(',')[col])).toBe(fixtureRecord(20).testAcc);
    await expect(service().dispatch('exportRuns', [[id, id], 'csv'])).rejects.toThrow(/one run's metrics \(got 2 runs\)/);
    await expect(service().dispatch('exportRuns', [[id], 'xlsx'])).rejects.toThrow(/exportRuns: invalid arguments/);
  });

  it('serves the same metric points it maps from a worker’s records', async () => {
    const run = await service().getRun(id);
    expect(run.metrics[1]).toEqual(pointFromRecord(fixtureRecord(20)));
  });
});
