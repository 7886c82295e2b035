import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Library } from '../core/library/library.js';
import { artifacts, openWorkbench, type Workbench } from './helpers/browser.js';
import { makeFixtureRun } from './helpers/fixture-run.js';

/**
 * A run's configuration in the real workbench (issue 35, item 4): two weight-decay-1 baselines and
 * a weight-decay-0 run, one baseline and the weight-decay-0 run tied to a study. The library's
 * study filter and weight-decay column tell the odd run apart; its run view highlights weightDecay
 * against its preset. Screenshots: test/artifacts/library-config.png, run-config.png.
 */
let wb: Workbench;
/** Ids as the library names runs (task-arch-seed-hex), as wide as a user's in the table. */
let base0: string, base1: string, wd0: string;

beforeAll(async () => {
  wb = await openWorkbench(async (lib) => {
    base0 = await makeFixtureRun(lib, { salt: 950, config: { seed: 0 } });
    base1 = await makeFixtureRun(lib, { salt: 951, config: { seed: 1 } });
    wd0 = await makeFixtureRun(lib, { salt: 952, config: { seed: 2, weightDecay: 0 } });
    await Library.with(lib, async (l) => {
      await l.upsertStudy('wd-sweep', JSON.stringify({ name: 'wd-sweep' }), 'completed');
      await l.setStudyRun('wd-sweep', 'baseline-1', base1);
      await l.setStudyRun('wd-sweep', 'wd0-2', wd0);
    });
  });
}, 120_000);

afterAll(async () => {
  await wb?.close();
});

describe('configuration visible in the workbench', () => {
  it('the library filters by study and shows the weight decay that sets a run apart', async () => {
    const { page } = wb;
    await page.waitForSelector(`tr[data-run="${wd0}"]`);
    expect(await page.locator('tbody tr').count()).toBe(3);
    await page.selectOption('select[data-field="study-filter"]', 'wd-sweep');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    expect(await page.locator(`tr[data-run="${base0}"]`).count()).toBe(0);
    expect(await page.locator(`tr[data-run="${wd0}"] td[data-col="weightDecay"]`).textContent()).toBe('0');
    expect(await page.locator(`tr[data-run="${base1}"] td[data-col="weightDecay"]`).textContent()).toBe('1');
    expect(await page.locator(`tr[data-run="${wd0}"] td[data-col="study"]`).textContent()).toBe('wd-sweep');
    expect(await page.locator(`tr[data-run="${wd0}"] td[data-col="lr"]`).textContent()).toBe('3e-3');
    // The settings columns fit a 1,280 px window with ids as the library makes them: neither the
    // page nor the library's table scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await page.evaluate(() => {
      const t = document.querySelector('.library table')!;
      return { table: Math.ceil(t.getBoundingClientRect().right), section: Math.ceil(t.parentElement!.getBoundingClientRect().right) };
    })).toSatisfy(({ table, section }: { table: number; section: number }) => table <= section);
    await page.screenshot({ path: path.join(artifacts, 'library-config.png') });
  });

  it('the run view shows its study and highlights weightDecay against its preset', async () => {
    const { page } = wb;
    await page.click(`tr[data-run="${wd0}"] a`);
    await page.waitForSelector('.run-view [data-field="preset-diff"]');
    expect(await page.locator('.run-view [data-field="preset-diff"]').textContent()).toContain('weightDecay 0 (preset 1)');
    expect(await page.locator('.run-view [data-field="study"]').textContent()).toBe('study wd-sweep');
    await page.click('[data-field="config"] summary');
    const row = page.locator('[data-field="config"] tr[data-config-field="weightDecay"]');
    await row.waitFor({ state: 'visible' });
    expect(await row.getAttribute('class')).toContain('differs');
    expect(await row.locator('td').allTextContents()).toEqual(['weightDecay', '0', '1']);
    // Only weightDecay departs from the preset (the seed is a replicate).
    expect(await page.locator('[data-field="config"] tr.differs').count()).toBe(1);
    expect(await page.locator('[data-field="config"] tr[data-config-field="seed"]').getAttribute('class')).not.toContain('differs');
    await page.locator('[data-field="config"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifacts, 'run-config.png') });
  });
});
