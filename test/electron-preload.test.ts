import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_CHANNELS, API_METHODS, type ApiMethod, type GrokscopeApi, type IpcReply, type LiveEvent } from '../core/api.js';
import { FakeElectron, fake } from './helpers/fake-electron.js';
import { tempDir } from './helpers/tmp.js';

/**
 * preload/index.ts through the stand-in `electron` (test/helpers/fake-electron.ts): the page's
 * `window.grokscope` is exactly the api.ts contract, each method reaches its own IPC channel with
 * its arguments, errors arrive as the service's one line, live events arrive until unsubscribed;
 * and the preload electron-vite builds runs as a sandboxed preload must (one CommonJS file that
 * requires nothing but `electron`). The main process's side: test/electron-main.test.ts.
 */
vi.mock('electron', async () => (await import('./helpers/fake-electron.js')).electronModule());

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const page = (): GrokscopeApi => fake.mainWorld.grokscope as GrokscopeApi;

/** Arguments for each method as the renderer passes them; a method added to API_METHODS needs a line here. */
const CALLS: Record<ApiMethod, unknown[]> = {
  listRuns: [],
  getRun: ['run-1', { forecast: false }],
  compare: [['a', 'b'], { lines: true, band: 'ci95' }],
  startRun: [{ preset: 'fast', seed: 2 }],
  resumeRun: ['run-1'],
  stopRun: ['run-1'],
  deleteRuns: [['a', 'b']],
  tagRuns: [['a'], ['keep'], ['old']],
  startStudy: ['quick', { queue: 'redis://localhost:6379/0' }],
  planStudy: [{ name: 'x' }],
  listStudies: [],
  getStudyReport: ['quick'],
  formChoices: [],
  importFiles: [[{ name: 'a.grokrun', base64: 'AAEC' }]],
  exportRuns: [['a'], 'grokbundle'],
  exportModel: ['run-1', 40],
};

beforeAll(async () => {
  await import('../preload/index.js');
});

describe('the preload bridge (stand-in electron)', () => {
  it('exposes exactly the api.ts contract, as window.grokscope', () => {
    expect(Object.keys(fake.mainWorld)).toEqual(['grokscope']);
    expect(Object.keys(page()).sort()).toEqual([...API_METHODS, 'subscribe'].sort());
    for (const [name, value] of Object.entries(page())) expect(typeof value, name).toBe('function');
  });

  it('sends each method to its own channel with the arguments the page gave', async () => {
    for (const method of API_METHODS) fake.ipcMain.handle(API_CHANNELS[method], (_e, ...args): IpcReply => ({ ok: true, result: { method, args } }));
    try {
      for (const method of API_METHODS) {
        const fn = page()[method] as (...a: unknown[]) => Promise<unknown>;
        await expect(fn(...CALLS[method]), method).resolves.toEqual({ method, args: CALLS[method] });
      }
      // Optional arguments left out: getRun passes its place (undefined), startStudy leaves it off.
      await expect((page().getRun as (...a: unknown[]) => Promise<unknown>)('r')).resolves.toEqual({ method: 'getRun', args: ['r', undefined] });
      await expect((page().startStudy as (...a: unknown[]) => Promise<unknown>)('quick')).resolves.toEqual({ method: 'startStudy', args: ['quick'] });
      expect(fake.ipcRenderer.invoked.map((c) => c.channel)).toEqual([...API_METHODS.map((m) => API_CHANNELS[m]), API_CHANNELS.getRun, API_CHANNELS.startStudy]);
    } finally {
      for (const method of API_METHODS) fake.ipcMain.removeHandler(API_CHANNELS[method]);
    }
  });

  it('rejects with the service’s one line, not Electron’s wrapping of it', async () => {
    fake.ipcMain.handle(API_CHANNELS.getRun, (): IpcReply => ({ ok: false, error: 'getRun: invalid arguments: 0: expected string' }));
    try {
      const err = await page().getRun(42 as unknown as string).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe('getRun: invalid arguments: 0: expected string');
    } finally {
      fake.ipcMain.removeHandler(API_CHANNELS.getRun);
    }
    // Without a handler (a channel main does not serve) the call fails, it does not hang.
    await expect(page().listStudies()).rejects.toThrow(/No handler registered for 'grokscope:listStudies'/);
  });

  it('delivers live events sent to the window until the page unsubscribes', async () => {
    const win = new fake.BrowserWindow({});
    const got: LiveEvent[] = [];
    const off = page().subscribe((e) => got.push(e));
    win.webContents.send(API_CHANNELS.event, { type: 'library-changed' });
    win.webContents.send(API_CHANNELS.event, { type: 'menu', action: 'new-run' });
    win.webContents.send('grokscope:other', { type: 'library-changed' });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([{ type: 'library-changed' }, { type: 'menu', action: 'new-run' }]);
    // Unsubscribing hands the page nothing (ipcRenderer.off returns ipcRenderer: every channel).
    expect(off()).toBeUndefined();
    win.webContents.send(API_CHANNELS.event, { type: 'library-changed' });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toHaveLength(2);
    expect(fake.ipcRenderer.listenerCount(API_CHANNELS.event)).toBe(0);
  });
});

describe('the built preload', () => {
  const out = tempDir('grokscope-preload-build-');
  afterAll(() => out.cleanup());

  it('is one CommonJS file needing only electron, as a sandboxed preload must be, and exposes the contract', async () => {
    // electron-vite's own preload settings from electron.vite.config.ts, built alone into a scratch folder.
    const { resolveConfig } = await import('electron-vite');
    const { build } = await import('vite');
    const nodeEnv = process.env.NODE_ENV;
    try {
      const resolved = await resolveConfig({ configFile: path.join(root, 'electron.vite.config.ts'), root, build: { outDir: out.dir }, logLevel: 'silent' }, 'build', 'production');
      await build({ ...resolved.config?.preload, logLevel: 'silent' });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    const built = readdirSync(path.join(out.dir, 'preload'));
    // main/electron/index.ts names ../preload/index.cjs (test/electron-main.test.ts checks that side).
    expect(built).toEqual(['index.cjs']);
    const code = readFileSync(path.join(out.dir, 'preload', 'index.cjs'), 'utf8');
    // Electron's sandboxed preload: a script with a require that knows electron (and a few of
    // Node's: events, timers, url), no import statements, no files beside it.
    const sandbox = new FakeElectron();
    const required: string[] = [];
    const require = (name: string): unknown => {
      required.push(name);
      if (name === 'electron') return sandbox.module();
      throw new Error(`module not found: ${name}`);
    };
    const module = { exports: {} };
    new Function('require', 'module', 'exports', code)(require, module, module.exports);
    expect(required).toEqual(['electron']);
    expect(Object.keys(sandbox.mainWorld.grokscope as object).sort()).toEqual([...API_METHODS, 'subscribe'].sort());
    sandbox.ipcMain.handle(API_CHANNELS.listRuns, (): IpcReply => ({ ok: true, result: ['from the built preload'] }));
    await expect((sandbox.mainWorld.grokscope as GrokscopeApi).listRuns()).resolves.toEqual(['from the built preload']);
  }, 30_000);
});
