import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { artifacts, openWorkbench, type Workbench } from './helpers/browser.js';
import { makeFixtureRun } from './helpers/fixture-run.js';

/**
 * Issue 35, item 7 in real Chromium at 1,280 px: the page never scrolls sideways, links keep AA
 * contrast in the dark theme, chart tooltips print at most 4 significant digits, and step charts
 * zoom. Fixture runs as in test/e2e.test.ts (two Transformer baselines, two mix runs, two MLP
 * baselines), no training.
 */
const IDS = ['tf-base-0', 'tf-base-1', 'tf-mix-0', 'tf-mix-1', 'mlp-base-0', 'mlp-base-1'];
let wb: Workbench;
let page: Page;

beforeAll(async () => {
  wb = await openWorkbench(async (lib) => {
    for (const seed of [0, 1]) {
      await makeFixtureRun(lib, { id: `tf-base-${seed}`, salt: 950 + seed, config: { seed, arch: 'transformer' } });
      await makeFixtureRun(lib, { id: `tf-mix-${seed}`, salt: 10 + seed, config: { seed, arch: 'transformer', condition: 'mix' } });
      await makeFixtureRun(lib, { id: `mlp-base-${seed}`, salt: 500 + seed, config: { seed, arch: 'mlp', probe: 'resid.final' } });
    }
  });
  page = wb.page;
  await page.evaluate(() => localStorage.setItem('grokscope-theme', 'light'));
  await page.reload();
}, 120_000);

afterAll(async () => {
  await wb?.close();
});

/** WCAG 2.1 contrast of two computed CSS colours ("rgb(r, g, b)"). */
function contrast(a: string, b: string): number {
  const lum = (css: string): number => {
    const [r, g, bl] = css.match(/[\d.]+/g)!.slice(0, 3).map(Number);
    const lin = (c: number): number => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(bl);
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Every link's computed colour against the app's background, as [text, ratio]. */
async function linkContrasts(): Promise<[string, number][]> {
  const { bg, links } = await page.evaluate(() => ({
    bg: getComputedStyle(document.querySelector('.app')!).backgroundColor,
    links: [...document.querySelectorAll('.app a')].map((a) => [a.textContent ?? '', getComputedStyle(a).color] as [string, string]),
  }));
  return links.map(([text, color]) => [text, contrast(color, bg)]);
}

/** Significant digits of each number in a text, thousands separators read as part of the number. */
function significantDigits(text: string): { number: string; digits: number }[] {
  return [...text.matchAll(/\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?/g)].map((m) => {
    const mantissa = m[0].split('e')[0].replace(/[,.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
    return { number: m[0], digits: mantissa.length };
  });
}

/** Hover the middle of a chart's plot and return the tooltip ECharts shows there. */
async function tooltipOf(chart: string): Promise<string> {
  const box = (await page.locator(`[data-chart="${chart}"]`).boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.6);
  // ECharts' tooltip is a div it adds to the chart's element, shown once the pointer is over the plot.
  const tip = page.locator(`[data-chart="${chart}"] > div:not(:first-child)`).filter({ hasText: /\d/ });
  await tip.first().waitFor({ state: 'visible' });
  return (await tip.first().innerText()).trim();
}

describe('polish at 1,280 px', () => {
  it('compare fits the window: no sideways page scroll, wide tables scroll in place', async () => {
    await page.waitForSelector('tr[data-run="tf-base-0"]');
    for (const id of IDS) await page.check(`input[aria-label="select ${id}"]`);
    await page.click('button[data-action=compare]');
    await page.waitForSelector('[data-arch=transformer] canvas');
    await page.waitForSelector('[data-arch=mlp] canvas');
    await page.waitForSelector('table[data-table=interventions] tbody tr');
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    expect(widths.inner).toBe(1280);
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    // Every table's right edge is reachable: inside the window, or inside a container that scrolls.
    const cut = await page.evaluate(() =>
      [...document.querySelectorAll('table')]
        .filter((t) => t.getBoundingClientRect().right > window.innerWidth)
        .filter((t) => {
          for (let e = t.parentElement; e && e !== document.body; e = e.parentElement) if (/auto|scroll/.test(getComputedStyle(e).overflowX) && e.getBoundingClientRect().right <= window.innerWidth) return false;
          return true;
        })
        .map((t) => t.getAttribute('data-table') ?? 'table'),
    );
    expect(cut).toEqual([]);
  });

  it('links keep ≥ 4.5:1 contrast in both themes, in the library and in compare', async () => {
    await page.click('button[data-tab=library]');
    await page.waitForSelector('tr[data-run="tf-base-0"] a');
    // The library (a table of many columns and a long toolbar) fits too.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const light = await linkContrasts();
    expect(light.length).toBeGreaterThanOrEqual(IDS.length);
    for (const [text, r] of light) expect(r, `light: ${text} ${r.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
    await page.click('button[title="theme (t)"]');
    await page.waitForSelector('.app.dark');
    const dark = await linkContrasts();
    expect(dark.length).toBe(light.length);
    for (const [text, r] of dark) expect(r, `dark: ${text} ${r.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
    // Table text too: the cells' colour against the background.
    const cells = await page.evaluate(() => ({ bg: getComputedStyle(document.querySelector('.app')!).backgroundColor, fg: getComputedStyle(document.querySelector('tbody td:nth-child(3)')!).color }));
    expect(contrast(cells.fg, cells.bg)).toBeGreaterThanOrEqual(4.5);
    await page.click('button[data-tab=compare]');
    await page.waitForSelector('[data-arch=transformer] canvas');
    for (const [text, r] of await linkContrasts()) expect(r, `dark compare: ${text} ${r.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(artifacts, 'compare-1280-dark.png'), fullPage: true });
  });

  it('tooltips print no number with more than 4 significant digits', async () => {
    const compareTip = await tooltipOf('transformer-test-acc');
    expect(compareTip).toMatch(/\d/);
    for (const n of significantDigits(compareTip)) expect(n.digits, `compare tooltip "${compareTip}": ${n.number}`).toBeLessThanOrEqual(4);
    // The run view's charts use ECharts' own tooltip, with the workbench's formats (fixture values
    // are non-round doubles: 0.9378… printed whole before).
    await page.click('button[data-tab=library]');
    await page.click('tr[data-run="tf-base-0"] a');
    await page.waitForSelector('[data-chart=accuracy] canvas');
    for (const chart of ['accuracy', 'loss', 'weight-norm']) {
      const tip = await tooltipOf(chart);
      // The header is the step under the pointer: whole, with separators ("40.00" before).
      expect(tip.split('\n')[0]).toMatch(/^\d{1,3}(,\d{3})*$/);
      expect(tip).toMatch(/\d\.\d/);
      for (const n of significantDigits(tip)) expect(n.digits, `${chart} tooltip "${tip}": ${n.number}`).toBeLessThanOrEqual(4);
    }
    await page.screenshot({ path: path.join(artifacts, 'run-tooltip-dark.png') });
  });

  it('zooms a step chart with Shift + wheel and resets it from the chart bar', async () => {
    const box = (await page.locator('[data-chart=accuracy]').boundingBox())!;
    const reset = page.locator('.chart-box:has([data-chart=accuracy]) button[data-action=reset-zoom]');
    expect(await reset.count()).toBe(0);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.down('Shift');
    await page.mouse.wheel(0, -400);
    await page.keyboard.up('Shift');
    await reset.waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(artifacts, 'run-zoomed-dark.png') });
    await reset.click();
    await expect.poll(() => reset.count()).toBe(0);
  });
});
