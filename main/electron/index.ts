import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, shell, type MenuItemConstructorOptions } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_CHANNELS, API_METHODS, type LiveEvent, type MenuAction } from '../../core/api.js';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { existingRecentLibraries, rememberLibrary } from '../../core/library/recent.js';
import { importSources } from '../../core/library/transfer.js';
import { GrokscopeService } from '../../core/service/service.js';
import { createTrainingPool, defaultWorkerCount } from '../../core/runs/pool.js';

/**
 * Electron main process: a thin host of core. It owns the training pool and the run library
 * through GrokscopeService, validates every IPC argument (service.dispatch), forwards live events
 * to the window and turns the important ones into notifications. Opening another library swaps
 * the service; runs already training finish into the library they started in.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const recentFile = (): string => path.join(app.getPath('userData'), 'recent-libraries.json');
const workers = Number(process.env.GROKSCOPE_WORKERS) || defaultWorkerCount();
const pool = createTrainingPool(workers);
let service = new GrokscopeService(resolveLibraryDir(), pool);
let unsubscribe: () => void = () => {};
let win: BrowserWindow | null = null;

const send = (event: LiveEvent): void => win?.webContents.send(API_CHANNELS.event, event);

for (const method of API_METHODS) {
  ipcMain.handle(API_CHANNELS[method], async (_event, ...args: unknown[]) => service.dispatch(method, args));
}

function forward(event: LiveEvent): void {
  send(event);
  if (!Notification.isSupported()) return;
  const note = (title: string, body: string): void => new Notification({ title, body }).show();
  if (event.type === 'run-finished') note(`Run ${event.status}`, event.error ? `${event.id}: ${event.error}` : event.id);
  if (event.type === 'run-grokked') note('Run grokked', `${event.id} at step ${event.step}`);
  if (event.type === 'run-anti-grokking') note('Anti-grokking', `${event.id}: test accuracy fell back after grokking, from step ${event.step}`);
  if (event.type === 'run-crossed') note('H̃ crossed H̃*', `${event.id} at step ${event.step} (H̃* ${event.threshold})`);
  if (event.type === 'study-finished') note(`Study ${event.name} ${event.status}`, event.error ?? event.report ?? '');
}

function openLibrary(dir: string): void {
  unsubscribe();
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

async function importDialog(): Promise<void> {
  const r = await dialog.showOpenDialog({ properties: ['openFile', 'multiSelections'], filters: [{ name: 'Grokscope runs', extensions: ['grokrun', 'grokbundle'] }] });
  if (r.canceled) return;
  const reports = await importSources(service.libraryDir, r.filePaths);
  const lines = reports.map((x) => (x.ok ? x.outcomes.map((o) => o.message).join('\n') : `failed: ${x.error}`));
  await dialog.showMessageBox({ message: 'Import', detail: lines.join('\n') });
  send({ type: 'library-changed' });
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

function createWindow(): void {
  win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: `Grokscope — ${service.libraryDir}`,
    webPreferences: {
      preload: path.join(here, '../preload/index.js'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
    },
  });
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(path.join(here, '../renderer/index.html'));
}

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
  app.on('window-all-closed', () => {
    void pool.destroy().finally(() => app.quit());
  });
}
