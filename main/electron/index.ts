import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, shell, type MenuItemConstructorOptions, type WebContents } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_CHANNELS, API_METHODS, type IpcReply, type LiveEvent, type MenuAction } from '../../core/api.js';
import { firstLine } from '../../core/errors.js';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { existingRecentLibraries, rememberLibrary } from '../../core/library/recent.js';
import { GrokscopeService } from '../../core/service/service.js';
import { createTrainingPool, defaultWorkerCount } from '../../core/runs/pool.js';

/**
 * Electron main process: a thin host of core. It owns the training pool and the run library
 * through GrokscopeService, validates every IPC argument (service.dispatch), forwards live events
 * to the window and turns the important ones into notifications. Opening another library swaps
 * the service; runs already training finish into the library they started in (and still notify).
 * test/electron-main.test.ts runs this file against a stand-in `electron` (test/helpers/fake-electron.ts).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const recentFile = (): string => path.join(app.getPath('userData'), 'recent-libraries.json');
const workers = Number(process.env.GROKSCOPE_WORKERS) || defaultWorkerCount();
const pool = createTrainingPool(workers);
let service = new GrokscopeService(resolveLibraryDir(), pool);
let unsubscribe: () => void = () => {};
let win: BrowserWindow | null = null;
/** The renderer's built page (under `electron-vite dev`, ELECTRON_RENDERER_URL's origin instead). */
const rendererFile = path.join(here, '../renderer/index.html');

const send = (event: LiveEvent): void => win?.webContents.send(API_CHANNELS.event, event);

for (const method of API_METHODS) {
  ipcMain.handle(API_CHANNELS[method], (_event, ...args: unknown[]): Promise<IpcReply> =>
    service.dispatch(method, args).then(
      (result) => ({ ok: true, result }),
      (err: unknown) => ({ ok: false, error: firstLine(err) }),
    ),
  );
}

/** Runs a study trains: its progress and end speak for them (as in the window), not a notification per run. */
const studyRuns = new Set<string>();

function notify(event: LiveEvent): void {
  if ((event.type === 'run-progress' || event.type === 'run-finished') && event.study) studyRuns.add(event.id);
  const ofStudy = 'id' in event && studyRuns.has(event.id);
  if (event.type === 'run-finished') studyRuns.delete(event.id);
  if (ofStudy || !Notification.isSupported()) return;
  const note = (title: string, body: string): void => new Notification({ title, body }).show();
  if (event.type === 'run-finished') note(`Run ${event.status}`, event.error ? `${event.id}: ${event.error}` : event.id);
  if (event.type === 'run-grokked') note('Run grokked', `${event.id} at step ${event.step}`);
  if (event.type === 'run-anti-grokking') note('Anti-grokking', `${event.id}: test accuracy fell back after grokking, from step ${event.step}`);
  if (event.type === 'run-crossed') note('H̃ crossed H̃*', `${event.id} at step ${event.step} (H̃* ${event.threshold})`);
  if (event.type === 'study-finished') note(`Study ${event.name} ${event.status}`, event.error ?? event.report ?? '');
}

function forward(event: LiveEvent): void {
  send(event);
  notify(event);
}

function openLibrary(dir: string): void {
  // The library open now (first under Open recent): keep its service, which alone can stop its runs.
  if (path.resolve(dir) === path.resolve(service.libraryDir)) return;
  unsubscribe();
  // Its runs still training end in their own library with a notification; the window shows the new one.
  service.subscribe(notify);
  service = new GrokscopeService(dir, pool);
  unsubscribe = service.subscribe(forward);
  rememberLibrary(recentFile(), dir);
  win?.setTitle(`Grokscope — ${dir}`);
  send({ type: 'library-switched', dir });
  buildMenu();
}

async function chooseLibrary(): Promise<void> {
  const r = await dialog.showOpenDialog({ title: 'Open run library', properties: ['openDirectory', 'createDirectory'] });
  if (!r.canceled && r.filePaths[0]) openLibrary(r.filePaths[0]);
}

/** Files by path through the one import path (the window's drop and upload take it too); the outcome in a message box. */
async function importAndReport(paths: string[]): Promise<void> {
  const results = await service.importLocalFiles(paths).catch((err: unknown) => [{ file: paths.join(', '), ok: false, messages: [firstLine(err)] }]);
  const lines = results.map((x) => (x.ok ? x.messages.join('\n') : `failed: ${x.messages.join('; ')}`));
  await dialog.showMessageBox({ message: 'Import', detail: lines.join('\n') });
}

const IMPORTABLE = ['grokrun', 'grokbundle', 'csv', 'tsv', 'parquet'];

async function importDialog(): Promise<void> {
  const r = await dialog.showOpenDialog({
    properties: ['openFile', 'multiSelections'],
    filters: [{ name: 'Saved runs, bundles, other tools’ metrics', extensions: IMPORTABLE }],
  });
  if (!r.canceled && r.filePaths.length) await importAndReport(r.filePaths);
}

function buildMenu(): void {
  const menu = (action: MenuAction) => () => send({ type: 'menu', action });
  const recent: MenuItemConstructorOptions[] = existingRecentLibraries(recentFile()).map((dir) => ({ label: dir, click: () => openLibrary(dir) }));
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      {
        label: 'File',
        submenu: [
          { label: 'Open library…', accelerator: 'CmdOrCtrl+Shift+O', click: () => void chooseLibrary() },
          { label: 'Open recent', submenu: recent.length ? recent : [{ label: 'none yet', enabled: false }] },
          { type: 'separator' },
          { label: 'Import runs…', accelerator: 'CmdOrCtrl+O', click: () => void importDialog() },
          { label: 'Export selected runs as bundle…', accelerator: 'CmdOrCtrl+E', click: menu('export-selected') },
          { label: 'Open library folder', click: () => void shell.openPath(service.libraryDir) },
          { type: 'separator' },
          { role: 'quit' },
        ],
      },
      {
        label: 'Run',
        submenu: [
          { label: 'New run…', accelerator: 'CmdOrCtrl+N', click: menu('new-run') },
          { label: 'New study…', accelerator: 'CmdOrCtrl+Shift+N', click: menu('new-study') },
          { type: 'separator' },
          { label: 'Stop the open run', accelerator: 'CmdOrCtrl+.', click: menu('stop-run') },
        ],
      },
      { role: 'viewMenu' },
    ]),
  );
}

function isAppUrl(url: string): boolean {
  const dev = process.env.ELECTRON_RENDERER_URL;
  try {
    const u = new URL(url);
    if (dev) return u.origin === new URL(dev).origin;
    return u.protocol === 'file:' && fileURLToPath(u) === rendererFile;
  } catch {
    return false;
  }
}

/**
 * The window shows the app and nothing else: a link to the web opens in the browser, a file
 * dropped where the page did not take it (Chromium would navigate to it) is imported, anything
 * else is refused; no new windows.
 */
function guardNavigation(contents: WebContents): void {
  const elsewhere = (url: string): void => {
    if (/^https?:\/\//i.test(url)) void shell.openExternal(url);
    else if (url.startsWith('file:')) {
      let file: string;
      try {
        file = fileURLToPath(url); // throws for file://host/… on Linux
      } catch {
        return;
      }
      if (IMPORTABLE.includes(path.extname(file).slice(1).toLowerCase())) void importAndReport([file]);
    }
  };
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    elsewhere(event.url);
  });
  contents.setWindowOpenHandler(({ url }) => {
    elsewhere(url);
    return { action: 'deny' };
  });
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: `Grokscope — ${service.libraryDir}`,
    webPreferences: {
      // A sandboxed preload must be one CommonJS file (electron.vite.config.ts builds index.cjs).
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
    },
  });
  guardNavigation(win.webContents);
  win.on('closed', () => (win = null));
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(rendererFile);
}

/** Quitting waits for the pool to end: closing the last window quits, and Quit (menu, Ctrl+Q) skips window-all-closed. */
let poolEnded: Promise<void> | null = null;
let poolDestroyed = false;

if (!app.requestSingleInstanceLock()) app.quit();
else {
  app.on('second-instance', () => {
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });
  void app.whenReady().then(() => {
    unsubscribe = service.subscribe(forward);
    rememberLibrary(recentFile(), service.libraryDir);
    buildMenu();
    createWindow();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    if (poolDestroyed) return;
    event.preventDefault();
    poolEnded ??= pool.destroy().catch(() => undefined).then(() => {
      poolDestroyed = true;
      app.quit();
    });
  });
}
