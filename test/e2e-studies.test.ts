import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportDirFor } from '../core/service/studies-view.js';
import type { StudySummary } from '../core/study/summary.js';
import { verdictText } from '../core/study/stability.js';
import { artifacts, openWorkbench, type Workbench } from './helpers/browser.js';
import { makeFixtureStudy } from './helpers/fixture-study.js';

/**
 * Studies in the workbench, in Chromium: the library's studies listed with their verdicts, a
 * report opened in the app (not a file path), a study's end announced in view with a button to
 * its report; and the app's one error display — one element, dismissable, cleared by a tab change,
 * inside the window. Screenshots: studies.png, study-report.png.
 */
let wb: Workbench;
beforeAll(async () => {
  wb = await openWorkbench(async (lib) => {
    await makeFixtureStudy(lib, 'fixture-study');
    await makeFixtureStudy(lib, 'half-study', false);
  });
}, 120_000);
afterAll(() => wb?.close());

/** Calls the served API as any client does (the renderer's own path to it is what is under test elsewhere). */
async function call(method: string, args: unknown[]): Promise<unknown> {
  return wb.page.evaluate(
    async ([m, a]) => {
      const ws = new WebSocket(`ws://${location.host}/api`);
      await new Promise((res) => (ws.onopen = res));
      return new Promise((res, rej) => {
        ws.onmessage = (msg) => {
          const r = JSON.parse(String(msg.data));
          if (r.id !== 1) return;
          ws.close();
          if (r.error) rej(new Error(r.error));
          else res(r.result);
        };
        ws.send(JSON.stringify({ id: 1, method: m, args: a }));
      });
    },
    [method, args] as const,
  );
}

describe('studies in the workbench', () => {
  it('lists the library’s studies with status and verdicts, and opens a report in the app', async () => {
    const { page } = wb;
    const summary = JSON.parse(readFileSync(path.join(reportDirFor(wb.libraryDir, 'fixture-study'), 'summary.json'), 'utf8')) as StudySummary;
    await page.click('button[data-tab=studies]');
    const row = page.locator('tr[data-study="fixture-study"]');
    await row.waitFor();
    expect(await row.locator('[data-field=status]').textContent()).toBe('finished: completed');
    expect((await row.locator('[data-field=progress]').textContent())?.trim()).toBe('4/4 done');
    expect(await row.locator('[data-claim]').allTextContents()).toEqual(Object.entries(summary.claims).map(([k, c]) => `${k} ${verdictText(c)}`));
    const half = page.locator('tr[data-study="half-study"]');
    expect(await half.locator('[data-field=status]').textContent()).toBe('running elsewhere, or interrupted');
    expect(await half.locator('[data-field=verdicts]').textContent()).toBe('no report yet');
    await page.screenshot({ path: path.join(artifacts, 'studies.png') });

    await row.locator('[data-action=open-report]').click();
    const report = page.locator('[data-field=study-report][data-report="fixture-study"]');
    await report.waitFor();
    expect(await report.locator('[data-table=claims] tbody tr').count()).toBe(Object.keys(summary.claims).length);
    expect(await report.locator('[data-table=claims] tbody tr[data-claim=C1] td').nth(1).textContent()).toBe(verdictText(summary.claims.C1));
    expect(await report.locator('[data-table=onset] tbody tr').count()).toBe(summary.onset.length);
    // The report's figures, drawn: every image decoded.
    const figures = report.locator('[data-figure] img');
    expect(await figures.count()).toBeGreaterThan(0);
    await expect.poll(() => figures.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0))).toBe(true);
    // Wide tables scroll inside the report; the page itself does not widen at 1,280 px.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(artifacts, 'study-report.png'), fullPage: true });
  });

  it('announces a study’s end in view, without a file path, with a button to its report', async () => {
    const { page } = wb;
    await page.click('button[data-tab=library]');
    // Scrolled away from the top: the message must still be in the window.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const spec = { name: 'tiny-ui', preset: 'fast', overrides: { p: 7, dModel: 8, nHeads: 2, dMlp: 16, steps: 30, evalEvery: 10, spectrumEvery: 10, checkpointEvery: 10 }, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1] };
    await call('startStudy', [spec]);
    const message = page.locator('[data-field=study-finished]');
    await message.waitFor({ timeout: 60_000 });
    const text = (await message.locator('span').first().textContent())!;
    expect(text).toMatch(/^study tiny-ui completed: C1 (reproduced|refuted|inconclusive|not-run|not-measured)/);
    expect(text).not.toContain(wb.libraryDir);
    const box = (await message.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(800);
    await message.locator('[data-action=open-study-report]').click();
    await page.locator('[data-field=study-report][data-report="tiny-ui"]').waitFor();
    expect(await page.locator('button[data-tab=studies]').getAttribute('class')).toContain('active');
    expect(await page.locator('tr[data-study="tiny-ui"] [data-field=status]').textContent()).toBe('finished: completed');
  }, 90_000);

  it('shows an error in one element, inside the window, dismissable and cleared by a tab change', async () => {
    const { page } = wb;
    await page.click('button[data-tab=library]');
    const dropBroken = async () => {
      const dt = await page.evaluateHandle(() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new TextEncoder().encode('not a zip')], 'broken.grokrun'));
        return transfer;
      });
      await page.dispatchEvent('.app', 'drop', { dataTransfer: dt });
    };
    await dropBroken();
    const alert = page.locator('[role=alert]');
    await alert.first().waitFor();
    expect(await alert.count()).toBe(1);
    expect(await alert.textContent()).toMatch(/broken\.grokrun.*not a readable zip/);
    // Shown once: no notice repeats it.
    expect(await page.locator('.notice', { hasText: 'broken.grokrun' }).count()).toBe(0);
    const box = (await alert.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(8);
    expect(box.x + box.width).toBeLessThanOrEqual(1280 - 8);
    await page.screenshot({ path: path.join(artifacts, 'error.png') });
    await page.click('[data-action=dismiss-error]');
    expect(await alert.count()).toBe(0);
    await dropBroken();
    await alert.first().waitFor();
    await page.click('button[data-tab=studies]');
    expect(await alert.count()).toBe(0);
  });
});
