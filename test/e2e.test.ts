import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { GrokscopeService } from '../core/service/service.js';
import { createTrainingPool } from '../core/runs/pool.js';
import { exportRuns, importSources } from '../core/library/transfer.js';
import { extractZip } from '../core/library/zip.js';
import { readSafetensors } from '../core/interop/safetensors.js';
import { Library } from '../core/library/library.js';
import { serve, type RunningServer } from '../main/server/serve.js';
import { root } from './helpers/cli.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The real renderer in real Chromium (Debian's, installed by scripts/setup-browser.mjs from
 * `npm test`) against `grokscope serve` on a temporary library. Screenshots of each main view go
 * to test/artifacts/ (ignored by git) for CI to keep.
 */
const exe = [process.env.GROKSCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => p && existsSync(p));
const artifacts = path.join(root, 'test', 'artifacts');
const tmp = tempDir();
const pool = createTrainingPool(1);
let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!exe) throw new Error('no Chromium: run `node scripts/setup-browser.mjs` (npm test does)');
  mkdirSync(artifacts, { recursive: true });
  const lib = path.join(tmp.dir, 'lib');
  // Two seeds per group. Salts 950–951 put the Transformer baselines' memorisation at step 0 and
  // grokking at step 20, with H̃ above a threshold band at memorisation and below it from 20 on:
  // a warning under the one definition (from T_mem on), so H̃* can be fitted and the tables fill.
  // (At salt 1000 they grokked at step 0, where no crossing can count.)
  for (const seed of [0, 1]) {
    await makeFixtureRun(lib, { id: `tf-base-${seed}`, salt: 950 + seed, config: { seed, arch: 'transformer' } });
    await makeFixtureRun(lib, { id: `tf-mix-${seed}`, salt: 10 + seed, config: { seed, arch: 'transformer', condition: 'mix' } });
    await makeFixtureRun(lib, { id: `mlp-base-${seed}`, salt: 500 + seed, config: { seed, arch: 'mlp', probe: 'resid.final' } });
  }
  server = await serve({ service: new GrokscopeService(lib, pool), staticDir: path.join(root, 'dist', 'renderer') });
  browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await pool.destroy();
  tmp.cleanup();
});

/** Drop files on the window as a user would (a DataTransfer carrying File objects). */
async function dropFiles(files: { name: string; bytes: Buffer }[]): Promise<void> {
  const dt = await page.evaluateHandle((fs: { name: string; b64: string }[]) => {
    const transfer = new DataTransfer();
    for (const f of fs) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      transfer.items.add(new File([bytes], f.name));
    }
    return transfer;
  }, files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') })));
  await page.dispatchEvent('.app', 'drop', { dataTransfer: dt });
}

describe('the workbench in a browser', () => {
  it('refuses requests without the token', async () => {
    const bare = server.url.split('?')[0];
    expect((await fetch(bare)).status).toBe(403);
    expect((await fetch(`${bare}?token=wrong`)).status).toBe(403);
    expect((await fetch(server.url)).status).toBe(200);
  });

  it('lists the library, sorts and filters it', async () => {
    await page.goto(server.url);
    await page.waitForSelector('tr[data-run="tf-base-0"]');
    expect(await page.locator('tbody tr').count()).toBe(6);
    await page.fill('input[type=search]', 'mlp');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    await page.fill('input[type=search]', '');
    // Tag two runs, find them by tag, untag one.
    await page.check('input[aria-label="select tf-base-0"]');
    await page.check('input[aria-label="select mlp-base-1"]');
    await page.fill('input[aria-label=tags]', 'paper-fig-2, keep');
    await page.click('button[data-action=tag]');
    await page.waitForSelector('tr[data-run="mlp-base-1"] .tag:has-text("paper-fig-2")');
    await page.fill('input[type=search]', 'paper-fig');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    await page.fill('input[type=search]', '');
    await page.check('input[aria-label="select tf-base-0"]');
    await page.fill('input[aria-label=tags]', 'keep');
    await page.click('button[data-action=untag]');
    await expect.poll(() => page.locator('tr[data-run="tf-base-0"] .tag').allTextContents()).toEqual(['paper-fig-2']);
    await page.screenshot({ path: path.join(artifacts, 'library.png') });
  });

  it('compares Transformer and MLP groups side by side with the tables', async () => {
    for (const id of ['tf-base-0', 'tf-base-1', 'tf-mix-0', 'tf-mix-1', 'mlp-base-0', 'mlp-base-1']) await page.check(`input[aria-label="select ${id}"]`);
    await page.click('button[data-action=compare]');
    await page.waitForSelector('[data-arch=transformer] canvas');
    await page.waitForSelector('[data-arch=mlp] canvas');
    const necessity = await page.locator('table[data-table=necessity] tbody tr td:first-child').allTextContents();
    expect(necessity.sort()).toEqual(['mlp', 'transformer']);
    const conditions = await page.locator('table[data-table=interventions] tbody tr td:nth-child(2)').allTextContents();
    expect(conditions).toContain('mix');
    // Every run's own curves on top of the bands: fetched again with lines, box ticked when drawn.
    await page.click('input[data-action=lines]');
    await page.waitForFunction(() => {
      const box = document.querySelector('input[data-action=lines]') as HTMLInputElement | null;
      return !!box && box.checked && !box.disabled;
    });
    expect(await page.locator('[role=alert]').count()).toBe(0);
    // The runs differ in condition, arch and seed: the diff says so, and nothing else.
    expect(new Set(await page.locator('[data-table=config-diff] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-field'))))).toEqual(new Set(['arch', 'seed', 'condition']));
    // Aligned on T_grok (every fixture run has one): compared again, the selector shows it.
    await page.selectOption('select[data-action=align]', 'T_grok');
    await expect.poll(() => page.locator('select[data-action=align]').inputValue()).toBe('T_grok');
    await page.selectOption('select[data-action=align]', '');
    await expect.poll(() => page.locator('select[data-action=align]').inputValue()).toBe('');
    await page.screenshot({ path: path.join(artifacts, 'compare.png'), fullPage: true });
  });

  it('launches a run and watches it train live to the end', async () => {
    await page.click('button[data-tab=launch]');
    await page.fill('input[name=steps]', '200');
    await page.fill('input[name=evalEvery]', '10');
    await page.fill('input[name=seed]', '4');
    await page.click('button[data-action=launch]');
    await page.waitForSelector('.run-view [data-field=status]');
    await page.waitForSelector('.run-view [data-field=status]:has-text("completed")', { timeout: 90_000 });
    const header = await page.locator('.run-header').textContent();
    expect(header).toMatch(/backend (wasm|wasm\+openblas|cpu|tensorflow)/);
    // The events recomputed when read: the onset markers and the warning's lead against T_rise.
    expect(header).toMatch(/T_mem (\d+|—) · T_rise (\d+|—) · T_loss_peak (\d+|—) · T_grok_50 (\d+|—) · T_grok (\d+|—)/);
    expect(header).toMatch(/lead vs T_rise (-?\d+|—), vs T_grok (-?\d+|—) · test acc at T_cross ([01]\.\d{3}|—)/);
    await page.waitForSelector('[data-chart=accuracy] canvas');
    expect(await page.locator('[data-field=forecast]').textContent()).toMatch(/forecast/);
    await page.screenshot({ path: path.join(artifacts, 'run.png'), fullPage: true });
    await page.click('button[data-tab=library]');
    await page.waitForSelector('tbody tr:has-text("completed") >> text=200/200');
  }, 120_000);

  it('exports a chart as SVG', async () => {
    await page.click('button[data-tab=run]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.chart-box:has([data-chart=accuracy]) button[title="save as SVG"]').click()]);
    expect(download.suggestedFilename()).toBe('accuracy.svg');
    const svg = readFileSync((await download.path())!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('accuracy');
    expect(svg).toMatch(/<path[^>]+d="M/); // the curves are drawn
  });

  it('lays every chart’s legend, title and buttons apart at 1024 px and 1440 px, and toggles a log step axis per view', async () => {
    for (const width of [1024, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      for (const tab of ['run', 'compare']) {
        await page.click(`button[data-tab=${tab}]`);
        await page.waitForSelector('.chart-box canvas');
        // ECharts draws title and legend on the canvas; the buttons sit in a bar above it.
        const overlaps = await page.evaluate(() =>
          [...document.querySelectorAll('.chart-box')].filter((box) => {
            const bar = box.querySelector('.chart-bar')!.getBoundingClientRect();
            const canvas = box.querySelector('canvas')!.getBoundingClientRect();
            return bar.bottom > canvas.top + 0.5;
          }).length,
        );
        expect(overlaps, `${tab} at ${width} px`).toBe(0);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('button[data-tab=compare]');
    const axes = () => page.locator('[data-step-axis]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step-axis')));
    expect(new Set(await axes())).toEqual(new Set(['linear']));
    await page.locator('input[data-action=log-steps]').first().check();
    expect(new Set(await axes())).toEqual(new Set(['log'])); // every step chart of the view
    await page.screenshot({ path: path.join(artifacts, 'compare-log-steps.png'), fullPage: true });
    await page.click('button[data-tab=run]');
    expect(new Set(await axes())).toEqual(new Set(['linear'])); // the run view keeps its own setting
    expect(await page.evaluate(() => [localStorage.getItem('grokscope.logSteps.compare'), localStorage.getItem('grokscope.logSteps.run')])).toEqual(['1', null]); // remembered per view
    await page.click('button[data-tab=compare]');
    await page.locator('input[data-action=log-steps]').first().uncheck();
  });

  it('shows a chart as a table on request, and reaches compare from the library by keyboard alone', async () => {
    await page.click('button[data-tab=run]');
    await page.locator('.chart-box:has([data-chart=accuracy]) button[data-action=chart-table]').click();
    const table = page.locator('[data-table-for=accuracy] table');
    expect(await table.locator('thead th').allTextContents()).toEqual(['step', 'train', 'test']);
    expect(await table.locator('tbody tr').count()).toBeGreaterThan(1);
    // Keyboard only: Tab to a run's checkbox, Space, Tab on to "compare", Enter.
    await page.click('button[data-tab=library]');
    await page.locator('input[type=search]').focus();
    const focusedIs = (selector: string) => page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector);
    for (const id of ['tf-base-0', 'tf-base-1']) {
      const box = `input[aria-label="select ${id}"]`;
      if (await page.locator(box).isChecked()) await page.locator(box).uncheck();
    }
    for (const id of ['tf-base-0', 'tf-base-1']) {
      for (let i = 0; i < 80 && !(await focusedIs(`input[aria-label="select ${id}"]`)); i++) await page.keyboard.press('Tab');
      expect(await focusedIs(`input[aria-label="select ${id}"]`)).toBe(true);
      // The focus is visible: an outline is drawn.
      expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
      await page.keyboard.press('Space');
    }
    for (let i = 0; i < 80 && !(await focusedIs('button[data-action=compare]')); i++) await page.keyboard.press('Shift+Tab');
    expect(await focusedIs('button[data-action=compare]')).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-arch=transformer] canvas');
    expect(await page.locator('button[data-tab=compare]').getAttribute('class')).toContain('active');
  });

  it('exports the model at a chosen checkpoint for TransformerLens', async () => {
    await page.click('button[data-tab=run]');
    const options = await page.locator('[data-field=checkpoint] option').allTextContents();
    expect(options[0]).toMatch(/^latest \(step \d+\)$/);
    await page.selectOption('[data-field=checkpoint]', { index: 1 });
    const chosen = Number(/step (\d+)/.exec(options[1])![1]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.run-view button[data-action=model]')]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`-transformerlens-step${chosen}\\.zip$`));
    const zip = path.join(tmp.dir, download.suggestedFilename());
    await download.saveAs(zip);
    const dir = path.join(tmp.dir, 'model-zip');
    expect((await extractZip(zip, dir, () => true)).sort()).toEqual(['config.json', 'load.py', 'model.safetensors']);
    const { tensors, metadata } = readSafetensors(readFileSync(path.join(dir, 'model.safetensors')));
    expect(metadata.step).toBe(String(chosen));
    expect(tensors.map((t) => t.name)).toContain('blocks.0.attn.W_Q');
  });

  it('stops a training run and resumes it to the end from its checkpoint', async () => {
    await page.click('button[data-tab=launch]');
    await page.fill('input[name=steps]', '1500');
    await page.fill('input[name=evalEvery]', '50');
    await page.fill('input[name=seed]', '6');
    await page.click('button[data-action=launch]');
    await page.waitForSelector('.run-view [data-field=progress]', { timeout: 60_000 });
    await page.click('.run-view button[data-action=stop]');
    await page.waitForSelector('.run-view [data-field=status]:has-text("stopped")', { timeout: 60_000 });
    const id = (await page.locator('.run-header h2').textContent())!;
    await page.click('.run-view button[data-action=resume]');
    await page.waitForSelector('.notice:has-text("resumed from its latest checkpoint")');
    await page.waitForSelector('.run-view [data-field=status]:has-text("completed")', { timeout: 110_000 });
    await page.click('button[data-tab=library]');
    await page.waitForSelector(`tr[data-run="${id}"]:has-text("1500/1500")`);
    // Resuming a completed run is refused with the reason.
    const r = await page.evaluate(async (runId) => {
      const ws = new WebSocket(`ws://${location.host}/api`);
      await new Promise((res) => (ws.onopen = res));
      return new Promise<string>((res) => {
        ws.onmessage = (m) => {
          const msg = JSON.parse(String(m.data));
          if (msg.id === 1) res(msg.error ?? 'no error');
        };
        ws.send(JSON.stringify({ id: 1, method: 'resumeRun', args: [runId] }));
      });
    }, id);
    expect(r).toBe(`run ${id} is completed: nothing to resume`);
  }, 180_000);

  it('imports saved runs dropped on the window, names bad files, and exports a bundle', async () => {
    const other = path.join(tmp.dir, 'other');
    await makeFixtureRun(other, { id: 'dropped-run', salt: 7, config: { lr: 0.001 } });
    const saved = path.join(tmp.dir, 'dropped.grokrun');
    await exportRuns(other, ['dropped-run'], saved);
    await page.click('button[data-tab=library]');
    await dropFiles([{ name: 'dropped.grokrun', bytes: readFileSync(saved) }]);
    await page.waitForSelector('tr[data-run="dropped-run"]');
    await dropFiles([{ name: 'dropped.grokrun', bytes: readFileSync(saved) }]);
    await page.waitForSelector('.notice:has-text("already in the library")');
    await dropFiles([{ name: 'broken.grokrun', bytes: Buffer.from('not a zip') }]);
    const alert = await page.waitForSelector('[role=alert]:has-text("broken.grokrun")');
    expect(await alert.textContent()).toMatch(/not a readable zip/);
    await page.screenshot({ path: path.join(artifacts, 'import.png') });

    for (const id of ['tf-mix-0', 'tf-base-0']) {
      const box = page.locator(`input[aria-label="select ${id}"]`);
      if (!(await box.isChecked())) await box.check();
    }
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-action=export]')]);
    const file = path.join(tmp.dir, download.suggestedFilename());
    await download.saveAs(file);
    expect(file.endsWith('.grokbundle')).toBe(true);
    const fresh = path.join(tmp.dir, 'fresh');
    const [rep] = await importSources(fresh, [file]);
    expect(rep.ok).toBe(true);
    const ids = (await Library.with(fresh, (l) => l.listRuns())).map((r) => r.id).sort();
    expect(ids).toEqual(expect.arrayContaining(['tf-base-0', 'tf-mix-0']));
    writeFileSync(path.join(artifacts, 'exported-bundle-runs.txt'), ids.join('\n'));
  });

  it('lists lr among the differences of two runs that differ in lr', async () => {
    await page.click('button[data-tab=library]');
    const checked = page.locator('tbody input[type=checkbox]:checked');
    while ((await checked.count()) > 0) await checked.first().uncheck();
    await page.check('input[aria-label="select dropped-run"]');
    await page.check('input[aria-label="select tf-base-0"]');
    await page.click('button[data-action=compare]');
    await page.waitForSelector('[data-table=config-diff]');
    const rows = await page.locator('[data-table=config-diff] tbody tr[data-field=lr] td').allTextContents();
    expect(rows.slice(0, 2)).toEqual(['lr', '0.001']);
    expect(await page.locator('[data-table=config-diff] tbody tr[data-field=lr]').count()).toBe(2);
  });

  it('starts a small study from the launch view and reports its verdicts when it finishes', async () => {
    await page.click('button[data-tab=launch]');
    // The form's live plan, from core: 1 task × 2 architectures × 3 conditions × 10 seeds.
    await expect.poll(() => page.locator('[data-field=study-plan]').textContent()).toMatch(/^60 runs, /);
    await page.uncheck('input[name="condition-baseline"]');
    await expect.poll(() => page.locator('.study-form [data-error-for=conditions]').textContent()).toMatch(/needs 'baseline'/);
    await page.check('input[name="condition-baseline"]');
    await page.screenshot({ path: path.join(artifacts, 'study-form.png') });
    await page.click('.study-form details.advanced summary');
    const spec = { name: 'ui-study', preset: 'fast', overrides: { p: 7, dModel: 8, nHeads: 2, dMlp: 16, steps: 30, evalEvery: 10, spectrumEvery: 10, checkpointEvery: 10 }, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1] };
    await page.fill('textarea[name=spec]', JSON.stringify(spec));
    await page.click('button[data-action=study]');
    await page.waitForSelector('text=study ui-study started: 2 runs');
    const done = await page.waitForSelector('.notice:has-text("study ui-study")', { timeout: 90_000 });
    expect(await done.textContent()).toMatch(/C1 (reproduced|refuted|inconclusive|not-run)/);
    await page.fill('textarea[name=spec]', '{"name": "bad"');
    await page.click('button[data-action=study]');
    expect(await page.locator('.study-form [role=alert]').textContent()).toMatch(/not valid JSON/);
    await page.fill('textarea[name=spec]', '{"name": "bad", "preset": "quick", "tasks": ["mod-add"], "archs": ["transformer"], "conditions": ["mix"], "seeds": [0]}');
    await page.click('button[data-action=study]');
    await expect.poll(() => page.locator('.study-form [role=alert]').textContent()).toMatch(/needs 'baseline'/);
  }, 120_000);

  it('names a bad launch in one line instead of failing silently', async () => {
    await page.click('button[data-tab=launch]');
    await page.fill('input[name=steps]', '0');
    await page.click('button[data-action=launch]');
    // The run form's own alert: the study form above may still show the alert its test left.
    const alert = await page.waitForSelector('.run-form [role=alert]');
    expect(await alert.textContent()).toMatch(/steps/);
    // …and core's words next to the field itself.
    expect(await page.locator('.run-form [data-error-for=steps]').textContent()).toMatch(/>0|greater than 0|positive/i);
    await page.screenshot({ path: path.join(artifacts, 'launch.png') });
  });
});
