import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { artifacts, openWorkbench, type Workbench } from './helpers/browser.js';
import { makeFixtureRun } from './helpers/fixture-run.js';

/**
 * The launch view in real Chromium at 1,280 and 1,920 px: the forms' fields never overlap and
 * leave no tall box or large gap; the run form offers every `grokscope run` setting; the study
 * form estimates a study's time in a library without a run of its shape (a short run measured on
 * this machine); a rejected spec's objection stays while other fields change.
 * Screenshots: test/artifacts/launch-1280.png, launch-1920.png.
 */
let wb: Workbench;
let page: Page;

beforeAll(async () => {
  // One mix run to replay, of the `fast` preset's shape: the study form's `quick` shapes have none.
  wb = await openWorkbench(async (lib) => {
    await makeFixtureRun(lib, { id: 'mix-fixture', config: { condition: 'mix', seed: 0 } });
  });
  page = wb.page;
}, 120_000);

afterAll(async () => {
  await wb?.close();
});

interface Box { name: string; x: number; y: number; width: number; height: number }

/** The grid items of a form (its direct children that show), with their boxes. */
async function items(form: string): Promise<Box[]> {
  return page.locator(`${form} > *`).evaluateAll((els) =>
    els
      .map((e, i) => {
        const r = e.getBoundingClientRect();
        return { name: `${e.tagName.toLowerCase()}:${(e.getAttribute('data-field') ?? e.className) || i}:${(e.textContent ?? '').trim().slice(0, 24)}`, x: r.x, y: r.y, width: r.width, height: r.height };
      })
      .filter((b) => b.width > 0 && b.height > 0),
  );
}

/** Pairs of boxes that overlap by more than a pixel. */
function overlaps(boxes: Box[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
      if (w > 1 && h > 1) out.push(`${a.name} × ${b.name}`);
    }
  return out;
}

/** The largest empty band between one row of items and the next, top to bottom. */
function largestGap(boxes: Box[]): number {
  const sorted = [...boxes].sort((a, b) => a.y - b.y);
  let bottom = sorted[0].y + sorted[0].height;
  let gap = 0;
  for (const b of sorted.slice(1)) {
    gap = Math.max(gap, b.y - bottom);
    bottom = Math.max(bottom, b.y + b.height);
  }
  return gap;
}

async function checkLayout(width: number): Promise<void> {
  await page.setViewportSize({ width, height: 1000 });
  for (const form of ['.run-form', '.study-form']) {
    const boxes = await items(form);
    expect(boxes.length, form).toBeGreaterThan(10);
    expect(overlaps(boxes), `${form} at ${width} px`).toEqual([]);
    expect(largestGap(boxes), `${form} at ${width} px`).toBeLessThan(40);
    // Every field inside the form's own width: nothing cut off at the right.
    const formBox = (await page.locator(form).boundingBox())!;
    for (const b of boxes) expect(b.x + b.width, `${b.name} at ${width} px`).toBeLessThanOrEqual(formBox.x + formBox.width + 1);
  }
  const tasks = (await page.locator('.study-form fieldset[data-field=tasks]').boundingBox())!;
  expect(tasks.height).toBeLessThan(120);
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
}

describe('the launch view', () => {
  it('estimates a study’s time in a library without a run of its shape, from a short run measured here', async () => {
    await page.click('button[data-tab=launch]');
    const plan = page.locator('.study-form [data-field=study-plan]');
    await expect.poll(() => plan.textContent(), { timeout: 60_000 }).toMatch(/^60 runs, 600,000 steps · about [\d.]+ (s|min|h) — /);
    expect(await plan.textContent()).toMatch(/measured \d+ steps of this shape on this machine now/);
  }, 90_000);

  it('lays both forms out without overlaps, tall boxes or large gaps at 1,280 px', async () => {
    await checkLayout(1280);
    await page.screenshot({ path: path.join(artifacts, 'launch-1280.png'), fullPage: true });
  });

  it('offers every run setting: logit-matched with its mix run, init scale, temperature, early stop, a seed range', async () => {
    const form = page.locator('.run-form');
    expect(await form.locator('select[name=condition] option').allTextContents()).toEqual(['baseline', 'mix', 'norm-matched', 'logit-matched']);
    await form.locator('select[name=condition]').selectOption('logit-matched');
    await expect.poll(() => form.locator('datalist#mix-runs option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual(['mix-fixture']);
    for (const name of ['initScale', 'temperature', 'earlyStopEvals', 'checkpointEvery', 'spectrumEvery', 'lr', 'weightDecay', 'trainFraction']) await expect.poll(() => form.locator(`input[name=${name}]`).isVisible()).toBe(true);
    await form.locator('input[name=seed]').fill('0-4');
    expect(await form.locator('[data-field=seed-count]').textContent()).toBe('launches 5 runs, one per seed');
    await form.locator('select[name=condition]').selectOption('mix');
    expect(await form.locator('input[name=mixStrength]').isVisible()).toBe(true);
  });

  it('keeps a rejected spec’s objection at its field while another field changes', async () => {
    const form = page.locator('.study-form');
    await form.locator('input[name=studyWeightDecay]').fill('-1');
    const objection = form.locator('[data-error-for=weightDecay]');
    await objection.waitFor();
    expect(await objection.textContent()).toMatch(/weightDecay|>=\s*0|greater than or equal/i);
    await form.locator('input[name=studyName]').fill('another-name');
    expect(await objection.isVisible()).toBe(true);
    // Core answered for the changed spec, and the objection is still there.
    await form.locator('[data-field=study-plan][data-state=done][data-answered=another-name]').waitFor();
    expect(await objection.isVisible()).toBe(true);
    expect(await form.locator('[role=alert]').textContent()).toBe('check weightDecay (marked below)');
    await form.locator('input[name=studyWeightDecay]').fill('0.5');
    await objection.waitFor({ state: 'detached' });
  });

  it('lays both forms out at 1,920 px', async () => {
    await checkLayout(1920);
    await page.screenshot({ path: path.join(artifacts, 'launch-1920.png'), fullPage: true });
  });
});
