import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { artifacts, openWorkbench, type Workbench } from './helpers/browser.js';
import { makeFixtureRun } from './helpers/fixture-run.js';

/**
 * Compare by configuration in real Chromium: a weight-decay-0 baseline among weight-decay-1 ones
 * is its own group and is counted apart in the tables; one H̃* in compare and run view; band kinds;
 * the aggregated CSV; no sideways scrolling at 1,280 px.
 */
let wb: Workbench;
const ids = ['tf-base-0', 'tf-base-1', 'tf-base-2', 'tf-wd0-0', 'tf-mix-0', 'tf-mix-1', 'mlp-base-0', 'mlp-base-1'];

beforeAll(async () => {
  wb = await openWorkbench(async (lib) => {
    // Salts 950–952 give baselines that memorise at 0 and grok at 20 with a warning (test/e2e.test.ts).
    for (const seed of [0, 1, 2]) await makeFixtureRun(lib, { id: `tf-base-${seed}`, salt: 950 + seed, config: { seed, arch: 'transformer' } });
    await makeFixtureRun(lib, { id: 'tf-wd0-0', salt: 960, config: { seed: 0, arch: 'transformer', weightDecay: 0 } });
    for (const seed of [0, 1]) await makeFixtureRun(lib, { id: `tf-mix-${seed}`, salt: 10 + seed, config: { seed, arch: 'transformer', condition: 'mix' } });
    for (const seed of [0, 1]) await makeFixtureRun(lib, { id: `mlp-base-${seed}`, salt: 500 + seed, config: { seed, arch: 'mlp' } });
  });
  await wb.page.waitForSelector('tr[data-run="tf-base-0"]');
}, 120_000);
afterAll(async () => wb?.close());

describe('compare by configuration', () => {
  it('shows a weight-decay-0 run as its own group and counts it apart in the necessity and intervention tables', async () => {
    const { page } = wb;
    for (const id of ids) await page.check(`input[aria-label="select ${id}"]`);
    await page.click('button[data-action=compare]');
    await page.waitForSelector('[data-arch=transformer] canvas');
    expect(await page.locator('[data-field=groups] [data-group]').evaluateAll((xs) => xs.map((x) => x.getAttribute('data-group')))).toEqual([
      'transformer baseline · weightDecay 0',
      'transformer baseline · weightDecay 1',
      'transformer mix · weightDecay 1',
      'mlp baseline · weightDecay 1',
    ]);
    const necessity = await page.locator('table[data-table=necessity] tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
    expect(necessity).toContainEqual(['weightDecay 0', 'transformer', '1']);
    expect(necessity).toContainEqual(['weightDecay 1', 'transformer', '3']);
    const interventions = await page.locator('table[data-table=interventions] tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)));
    expect(interventions).toEqual([['weightDecay 1', 'transformer', 'mix', '2 vs 3']]);
    expect(await page.locator('[role=alert]').count()).toBe(0);
    await page.screenshot({ path: path.join(artifacts, 'compare-grouped.png'), fullPage: true });
  });

  it('pools weight decay on request, and says the groups mix its values', async () => {
    const { page } = wb;
    await page.uncheck('input[data-group-field=weightDecay]');
    await page.waitForSelector('[data-field=pooled]');
    expect(await page.locator('[data-field=groups] [data-group]').count()).toBe(3);
    const interventions = await page.locator('table[data-table=interventions] tbody tr td:nth-child(3)').allTextContents();
    expect(interventions).toEqual(['2 vs 4']);
    await page.check('input[data-group-field=weightDecay]');
    await expect.poll(() => page.locator('[data-field=groups] [data-group]').count()).toBe(4);
  });

  it('draws the band kind chosen and names it, and downloads the aggregated series as CSV', async () => {
    const { page } = wb;
    await page.selectOption('select[data-action=band]', 'sd');
    await expect.poll(() => page.locator('[data-field=band-kind]').textContent()).toBe('mean ± SD across seeds');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-action=csv]')]);
    expect(download.suggestedFilename()).toBe('compare-aggregated.csv');
    const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
    expect(csv[0].split(',').slice(0, 8)).toEqual(['group', 'arch', 'condition', 'variant', 'setting', 'band', 'step', 'test_acc_mean']);
    // Four groups × four evaluations (0, 20, 40, 60), every step.
    expect(csv).toHaveLength(1 + 4 * 4);
    const base = csv.filter((r) => r.startsWith('baseline · weightDecay 1,transformer'));
    expect(base.map((r) => r.split(',')[6])).toEqual(['0', '20', '40', '60']);
    // A band of three runs at mean ± SD: lower < mean < upper where they differ; n is 3.
    const [mean, lower, upper, n] = base[1].split(',').slice(7, 11).map(Number);
    expect(lower).toBeLessThanOrEqual(mean);
    expect(upper).toBeGreaterThanOrEqual(mean);
    expect(n).toBe(3);
  });

  it('judges by one H̃* in compare and in the run view, and never scrolls sideways at 1,280 px', async () => {
    const { page } = wb;
    expect(await page.locator('[data-field=threshold]').textContent()).toContain('H̃* 0.61 — configured');
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.click('button[data-tab=library]');
    await page.click('tr[data-run="tf-wd0-0"] [data-action=open], tr[data-run="tf-wd0-0"] a');
    await page.waitForSelector('[data-chart] canvas');
    expect(await page.locator('[data-field=threshold]').textContent()).toBe('H̃* 0.61 (configured)');
    await page.screenshot({ path: path.join(artifacts, 'run-threshold.png') });
  });
});
