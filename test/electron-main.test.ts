import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_CHANNELS, API_METHODS, type GrokscopeApi, type LiveEvent } from '../core/api.js';
import { savedRunFile } from '../core/library/archive.js';
import { Library } from '../core/library/library.js';
import { GrokscopeService } from '../core/service/service.js';
import { fake, type FakeBrowserWindow } from './helpers/fake-electron.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { tempDir } from './helpers/tmp.js';

/**
 * main/electron/index.ts and preload/index.ts as Electron runs them, through the stand-in
 * `electron` (test/helpers/fake-electron.ts): the page's calls go page → context bridge → preload →
 * ipcRenderer → ipcMain → the real GrokscopeService on a scratch library and the real training pool
 * (one worker). The window, its navigation, the menus, imports, notifications, swapping libraries
 * and quitting are driven as a user would, through what the stand-in recorded. What only a real
 * Electron shows (the page drawn, native menus, the OS sandbox): `npm run smoke:electron`.
 */
vi.mock('electron', async () => (await import('./helpers/fake-electron.js')).electronModule());

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = tempDir('grokscope-electron-');
const libA = path.join(tmp.dir, 'library-a');
const libB = path.join(tmp.dir, 'library-b');
const userData = path.join(tmp.dir, 'user-data');
const saved = { env: { ...process.env } };
/** A run of a few seconds at most (test/launch-seeds.test.ts's shape); `steps` sets its length. */
const tiny = { preset: 'fast', p: 7, dModel: 8, nHeads: 2, dMlp: 16, evalEvery: 10, checkpointEvery: 50, backend: 'wasm' };
const CSV = 'Wall time,Step,Value\n1700000000.5,0,0.01\n1700000001.5,50,0.5\n1700000002.5,100,0.97\n';

const page = (): GrokscopeApi => fake.mainWorld.grokscope as GrokscopeApi;
const win = (): FakeBrowserWindow => fake.windows[0];
/** Every live event the page received, in order. */
const events: LiveEvent[] = [];
const subscribed = vi.spyOn(GrokscopeService.prototype, 'subscribe');
/** The service main serves now: the one whose subscriber is the window's forwarder (the latest). */
const current = (): GrokscopeService => subscribed.mock.contexts.at(-1) as GrokscopeService;
const emit = (e: LiveEvent): void => (current() as unknown as { emit(e: LiveEvent): void }).emit(e);

async function until<T>(what: string, probe: () => T | undefined | null | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const eventAfter = <T extends LiveEvent>(from: number, what: string, test: (e: LiveEvent) => boolean): Promise<T> => until(what, () => events.slice(from).find(test) as T | undefined);

beforeAll(async () => {
  process.env.GROKSCOPE_WORKERS = '1';
  process.env.GROKSCOPE_LIBRARY = libA;
  delete process.env.ELECTRON_RENDERER_URL;
  fake.paths.userData = userData;
  await makeFixtureRun(libA, { id: 'fixture-a' });
  await makeFixtureRun(libB, { id: 'fixture-b' });
  await import('../main/electron/index.js');
  await import('../preload/index.js');
  await until('the window', () => fake.windows.length === 1);
  page().subscribe((e) => events.push(e));
});

afterAll(async () => {
  // If a test stopped early: close the window, which quits after the pool is destroyed.
  if (!win()?.isDestroyed()) win()?.close();
  await Promise.race([fake.quitted, new Promise((r) => setTimeout(r, 10_000))]);
  process.env = saved.env;
  tmp.cleanup();
});

describe('the desktop host (stand-in electron)', () => {
  it('opens one isolated window: context isolation on, node integration off, sandboxed, with the built preload', () => {
    expect(fake.windows).toHaveLength(1);
    const prefs = win().options.webPreferences!;
    expect(prefs).toMatchObject({ contextIsolation: true, nodeIntegration: false, sandbox: true });
    // electron-vite builds the preload as out/preload/index.cjs beside out/main (test/electron-preload.test.ts).
    expect(path.relative(path.join(root, 'main/electron'), prefs.preload!)).toBe(path.join('..', 'preload', 'index.cjs'));
    expect(win().loaded).toEqual({ file: path.join(root, 'main/renderer/index.html') });
    expect(win().getTitle()).toBe(`Grokscope — ${libA}`);
    expect(JSON.parse(readFileSync(path.join(userData, 'recent-libraries.json'), 'utf8')).libraries).toEqual([libA]);
  });

  it('keeps the window on the app: web links open in the browser, any other navigation or new window is refused', () => {
    const contents = win().webContents;
    const own = pathToFileURL(win().loaded!.file!).href;
    expect(contents.navigate(own)).toBe(true); // a reload of the app's page
    expect(contents.navigate('https://arxiv.org/abs/2604.13123')).toBe(false);
    expect(contents.navigate('javascript:alert(1)')).toBe(false);
    expect(contents.navigate('file:///etc/passwd')).toBe(false);
    expect(contents.navigate('file://elsewhere/share/run.grokrun')).toBe(false); // not a local path: refused, no import
    expect(contents.navigate('http://localhost:5173/')).toBe(false);
    expect(contents.openWindow('https://github.com/')).toBe('deny');
    expect(contents.openWindow('about:blank')).toBe('deny');
    expect(contents.openWindow(own)).toBe('deny');
    expect(fake.openedExternal).toEqual(['https://arxiv.org/abs/2604.13123', 'http://localhost:5173/', 'https://github.com/']);
    expect(fake.messageBoxes).toEqual([]); // /etc/passwd was not taken for an import
    // Under `electron-vite dev` the app is the dev server's origin.
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173';
    try {
      expect(contents.navigate('http://localhost:5173/index.html')).toBe(true);
      expect(contents.navigate(own)).toBe(false);
    } finally {
      delete process.env.ELECTRON_RENDERER_URL;
    }
  });

  it('serves every api.ts method on its channel and no other; each reaches its service method', async () => {
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual(API_METHODS.map((m) => API_CHANNELS[m]).sort());
    const direct = new GrokscopeService(libA, null);
    const outcome = (p: Promise<unknown>): Promise<unknown> => p.then((result) => ({ result }), (e: unknown) => ({ error: (e as Error).message }));
    for (const method of API_METHODS) {
      // Nulls where arguments go: the methods that take some refuse them, the others answer.
      const fn = page()[method] as (...a: unknown[]) => Promise<unknown>;
      const got = await outcome(fn(null, null, null));
      const call = fake.ipcRenderer.invoked.at(-1)!;
      expect(call.channel, method).toBe(API_CHANNELS[method]);
      // The page gets what the service itself answers to the same arguments: its result, or its one-line error.
      expect(got, method).toEqual(await outcome(direct.dispatch(method, call.args)));
      if (!['listRuns', 'listStudies', 'formChoices'].includes(method)) expect(got, method).toEqual({ error: expect.stringMatching(new RegExp(`^${method}: invalid arguments: [^\\n]+$`)) });
    }
    // Errors that are not argument errors are one line too, and the host serves on.
    await expect(page().getRun('no-such-run')).rejects.toThrow(/^[^\n]*no-such-run[^\n]*$/);
    await expect(page().listStudies()).resolves.toEqual([]);
    expect(Object.keys(await page().formChoices())).toEqual(expect.arrayContaining(['presets']));
  });

  it('reaches the real service on the library: lists runs, opens one', async () => {
    const runs = await page().listRuns();
    expect(runs.map((r) => [r.id, r.status])).toEqual([['fixture-a', 'completed']]);
    const run = await page().getRun('fixture-a', { forecast: false, spectra: false });
    expect(run.metrics.map((m) => m.step)).toEqual([0, 20, 40, 60]);
    expect(run).toEqual(await new GrokscopeService(libA, null).getRun('fixture-a', { forecast: false, spectra: false }));
  });

  it('starts a run, streams its live events to the page and stops it, with a notification', async () => {
    const from = events.length;
    const { id } = await page().startRun({ ...tiny, steps: 200_000 });
    const progress = await eventAfter<Extract<LiveEvent, { type: 'run-progress' }>>(from, 'run-progress', (e) => e.type === 'run-progress' && e.id === id);
    expect(progress.totalSteps).toBe(200_000);
    await page().stopRun(id);
    const done = await eventAfter<Extract<LiveEvent, { type: 'run-finished' }>>(from, 'run-finished', (e) => e.type === 'run-finished' && e.id === id);
    expect(done.status).toBe('stopped');
    await until('its notification', () => fake.notifications.find((n) => n.body === id));
    expect(fake.notifications.filter((n) => n.body === id)).toEqual([{ title: 'Run stopped', body: id }]);
    expect((await page().getRun(id, { forecast: false, spectra: false })).status).toBe('stopped');
    await expect(page().stopRun(id)).rejects.toThrow(`run ${id} is not training in this session`);
  });

  it('swaps the service on File › Open library…, while a run training in the first library finishes there', async () => {
    const from = events.length;
    const { id } = await page().startRun({ ...tiny, steps: 100, evalEvery: 20 });
    await eventAfter(from, 'the run training', (e) => e.type === 'run-progress' && e.id === id);
    fake.openAnswers.push({ canceled: false, filePaths: [libB] });
    const notifiedBefore = fake.notifications.length;
    fake.menuItem('File', 'Open library…').click!();
    await eventAfter(from, 'library-switched', (e) => e.type === 'library-switched');
    expect(fake.openDialogs.at(-1)).toMatchObject({ properties: ['openDirectory', 'createDirectory'] });
    expect(events.find((e) => e.type === 'library-switched')).toEqual({ type: 'library-switched', dir: libB });
    expect(win().getTitle()).toBe(`Grokscope — ${libB}`);
    const listed = (await page().listRuns()).map((r) => r.id);
    expect(listed).toContain('fixture-b');
    expect(listed).not.toContain(id);
    await expect(page().stopRun(id)).rejects.toThrow(/not training in this session/);
    expect(fake.menuItems().filter((i) => i.path[1] === 'Open recent' && i.path.length === 3).map((i) => i.path[2])).toEqual([libB, libA]);
    // The run ends in library A, told by a notification; the window, now on B, hears nothing more of it.
    await until('the run’s end', () => fake.notifications.find((n) => n.body === id), 15_000);
    expect(fake.notifications.filter((n) => n.body === id)).toEqual([{ title: 'Run completed', body: id }]);
    expect(fake.notifications.findIndex((n) => n.body === id)).toBeGreaterThanOrEqual(notifiedBefore); // it was still training at the switch
    const lastOfRun = events.findLastIndex((e) => 'id' in e && e.id === id);
    expect(lastOfRun).toBeLessThan(events.findIndex((e, i) => i >= from && e.type === 'library-switched'));
    const stored = await Library.with(libA, (lib) => lib.getRun(id));
    expect([stored.status, stored.stepsDone]).toEqual(['completed', 100]);
    expect((await Library.with(libB, (lib) => lib.listRunsDetailed())).map((r) => r.id)).not.toContain(id);
    // File › Open recent › A: back to A, where the run is.
    fake.menuItem('File', 'Open recent', libA).click!();
    expect(win().getTitle()).toBe(`Grokscope — ${libA}`);
    expect((await page().getRun(id, { forecast: false, spectra: false })).status).toBe('completed');
    // A cancelled Open library… leaves the library as it is.
    fake.menuItem('File', 'Open library…').click!();
    await new Promise((r) => setTimeout(r, 50));
    expect(win().getTitle()).toBe(`Grokscope — ${libA}`);
  });

  it('has every menu item it should, each with an action', () => {
    const items = fake.menuItems().filter(({ item }) => item.type !== 'separator');
    expect(items.map((i) => i.path.join(' › '))).toEqual([
      'File',
      'File › Open library…',
      'File › Open recent',
      `File › Open recent › ${libA}`, // the library open now first
      `File › Open recent › ${libB}`,
      'File › Import runs…',
      'File › Export selected runs as bundle…',
      'File › Open library folder',
      'File › quit',
      'Run',
      'Run › New run…',
      'Run › New study…',
      'Run › Stop the open run',
      'viewMenu',
    ]);
    for (const { path: p, item } of items) if (!item.role && !item.submenu) expect(typeof item.click, p.join(' › ')).toBe('function');
  });

  it('keeps the service when Open recent names the library already open (its runs stay stoppable)', async () => {
    const services = subscribed.mock.calls.length;
    const from = events.length;
    fake.menuItem('File', 'Open recent', libA).click!();
    await new Promise((r) => setTimeout(r, 20));
    expect(subscribed.mock.calls.length).toBe(services);
    expect(events.slice(from)).toEqual([]);
    expect(win().getTitle()).toBe(`Grokscope — ${libA}`);
  });

  it('sends the window the menu commands only it can do (export, new run, new study, stop)', async () => {
    const from = events.length;
    fake.menuItem('File', 'Export selected runs as bundle…').click!();
    fake.menuItem('Run', 'New run…').click!();
    fake.menuItem('Run', 'New study…').click!();
    fake.menuItem('Run', 'Stop the open run').click!();
    await until('four menu events', () => events.length >= from + 4);
    expect(events.slice(from)).toEqual(['export-selected', 'new-run', 'new-study', 'stop-run'].map((action) => ({ type: 'menu', action })));
    fake.menuItem('File', 'Open library folder').click!();
    expect(fake.openedPaths).toEqual([libA]);
  });

  it('imports through File › Import runs… by the one import path (saved for rebuilds), and does nothing when cancelled', async () => {
    const other = await makeFixtureRun(libB, { id: 'fixture-menu' });
    const file = await new GrokscopeService(libB, null).exportRuns([other], 'grokrun');
    const runFile = path.join(tmp.dir, file.name);
    writeFileSync(runFile, Buffer.from(file.base64, 'base64'));
    const csvFile = path.join(tmp.dir, 'menu_seed0-tag-test_acc.csv');
    writeFileSync(csvFile, CSV);
    const from = events.length;
    fake.openAnswers.push({ canceled: false, filePaths: [runFile, csvFile] });
    fake.menuItem('File', 'Import runs…').click!();
    const box = await until('the import message', () => fake.messageBoxes[0]);
    expect(fake.openDialogs.at(-1)).toMatchObject({ properties: ['openFile', 'multiSelections'] });
    expect((fake.openDialogs.at(-1)!.filters as { extensions: string[] }[])[0].extensions).toEqual(expect.arrayContaining(['grokrun', 'grokbundle', 'csv', 'parquet']));
    expect(box.message).toBe('Import');
    expect(box.detail).toContain('fixture-menu');
    expect(box.detail).not.toMatch(/failed/);
    await eventAfter(from, 'library-changed', (e) => e.type === 'library-changed');
    const runs = await page().listRuns();
    expect(runs.map((r) => r.id)).toContain('fixture-menu');
    expect(runs.filter((r) => r.origin === 'external')).toHaveLength(1);
    // importPaths keeps a saved run of what came in (library rebuild); the old menu path did not.
    expect(existsSync(savedRunFile(libA, 'fixture-menu'))).toBe(true);
    fake.menuItem('File', 'Import runs…').click!(); // no answer queued: the dialog is cancelled
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.messageBoxes).toHaveLength(1);
  });

  it('imports a dropped file through the same path, whether the page takes the drop or Chromium would navigate to it', async () => {
    const dropped = await makeFixtureRun(libB, { id: 'fixture-drop' });
    const file = await new GrokscopeService(libB, null).exportRuns([dropped], 'grokrun');
    // The page's drop handler (renderer/src/App.vue onDrop) sends the file's bytes.
    const from = events.length;
    const results = await page().importFiles([{ name: file.name, base64: file.base64 }]);
    expect(results).toEqual([{ file: file.name, ok: true, messages: [expect.stringContaining('fixture-drop')] }]);
    await eventAfter(from, 'library-changed', (e) => e.type === 'library-changed');
    expect(existsSync(savedRunFile(libA, 'fixture-drop'))).toBe(true);
    // Dropped outside the page's drop zone: Chromium navigates to the file; main refuses and imports it.
    const csvFile = path.join(tmp.dir, 'dropped_seed1-tag-test_acc.csv');
    writeFileSync(csvFile, CSV.replace('0.97', '0.93'));
    const boxes = fake.messageBoxes.length;
    expect(win().webContents.navigate(pathToFileURL(csvFile).href)).toBe(false);
    const box = await until('the import message', () => fake.messageBoxes[boxes]);
    expect(box.detail).not.toMatch(/failed/);
    expect((await page().listRuns()).filter((r) => r.origin === 'external')).toHaveLength(2);
    // A broken file is named in the message, the host goes on.
    const broken = path.join(tmp.dir, 'broken.grokrun');
    writeFileSync(broken, 'not a zip');
    expect(win().webContents.navigate(pathToFileURL(broken).href)).toBe(false);
    expect((await until('the failure message', () => fake.messageBoxes[boxes + 1])).detail).toMatch(/^failed: .*broken\.grokrun/);
  });

  it('notifies for run-finished, run-grokked, run-anti-grokking, run-crossed and study-finished, not for a study’s own runs', async () => {
    const seen = fake.notifications.length;
    const from = events.length;
    const sent: LiveEvent[] = [
      { type: 'run-progress', id: 'r1', step: 10, totalSteps: 100, stepsPerSecond: null, etaSeconds: null, backend: 'wasm', latest: null },
      { type: 'run-crossed', id: 'r1', step: 30, threshold: 0.61 },
      { type: 'run-grokked', id: 'r1', step: 50 },
      { type: 'run-anti-grokking', id: 'r1', step: 80, testAcc: 0.4 },
      { type: 'run-finished', id: 'r1', status: 'completed', error: null },
      { type: 'run-finished', id: 'r2', status: 'failed', error: 'out of memory' },
      // A study's run: its study's progress and end speak for it.
      { type: 'run-progress', id: 's1', step: 10, totalSteps: 100, stepsPerSecond: null, etaSeconds: null, backend: 'wasm', latest: null, study: 'quick' },
      { type: 'run-grokked', id: 's1', step: 40 },
      { type: 'run-crossed', id: 's1', step: 20, threshold: 0.61 },
      { type: 'run-finished', id: 's1', status: 'completed', error: null, study: 'quick' },
      { type: 'study-progress', name: 'quick', done: 1, failed: 0, total: 1, running: 0 },
      { type: 'study-finished', name: 'quick', status: 'completed', summary: null, report: '/lib/reports/quick/report.html', verdicts: null, error: null },
      { type: 'study-finished', name: 'paper', status: 'failed', summary: null, report: null, verdicts: null, error: 'no runs' },
      { type: 'library-changed' },
    ];
    for (const e of sent) emit(e);
    expect(fake.notifications.slice(seen)).toEqual([
      { title: 'H̃ crossed H̃*', body: 'r1 at step 30 (H̃* 0.61)' },
      { title: 'Run grokked', body: 'r1 at step 50' },
      { title: 'Anti-grokking', body: 'r1: test accuracy fell back after grokking, from step 80' },
      { title: 'Run completed', body: 'r1' },
      { title: 'Run failed', body: 'r2: out of memory' },
      { title: 'Study quick completed', body: '/lib/reports/quick/report.html' },
      { title: 'Study paper failed', body: 'no runs' },
    ]);
    await until('the events in the page', () => events.length >= from + sent.length);
    expect(events.slice(from)).toEqual(sent); // every event reaches the window, notified or not
    fake.notificationsSupported = false;
    try {
      emit({ type: 'run-grokked', id: 'r3', step: 5 });
      expect(fake.notifications.slice(seen)).toHaveLength(7);
    } finally {
      fake.notificationsSupported = true;
    }
  });

  it('brings the window back when the app is started again', () => {
    win().minimize();
    fake.app.emit('second-instance');
    expect(win().isMinimized()).toBe(false);
    expect(win().focused).toBe(true);
  });

  it('quits when the window closes, once the training pool has ended', async () => {
    const order: string[] = [];
    const realDestroy = Piscina.prototype.destroy;
    vi.spyOn(Piscina.prototype, 'destroy').mockImplementation(async function (this: Piscina) {
      order.push('pool destroying');
      await realDestroy.call(this);
      order.push('pool destroyed');
    });
    fake.app.on('quit', () => order.push('quit'));
    win().close();
    await Promise.race([fake.quitted, until('quit', () => false, 10_000)]);
    expect(order).toEqual(['pool destroying', 'pool destroyed', 'quit']);
    // Events after the window closed go nowhere, without throwing.
    expect(() => emit({ type: 'library-changed' })).not.toThrow();
  });
});
