import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_CHANNELS, API_METHODS, type LiveEvent } from '../../core/api.js';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { importSources } from '../../core/library/transfer.js';
import { GrokscopeService } from '../../core/service.js';
import { createTrainingPool, defaultWorkerCount } from '../../core/train/pool.js';

/**
 * Electron main process: a thin host of core. It owns the training pool and the run library
 * through GrokscopeService, validates every IPC argument (service.dispatch), forwards live events
 * to the window and turns the important ones into notifications.
 */
const libraryDir = resolveLibraryDir();
const here = path.dirname(fileURLToPath(import.meta.url));
const workers = Number(process.env.GROKSCOPE_WORKERS) || defaultWorkerCount();
const pool = createTrainingPool(workers);
const service = new GrokscopeService(libraryDir, pool);
let win: BrowserWindow | null = null;

for (const method of API_METHODS) {
  ipcMain.handle(API_CHANNELS[method], async (_event, ...args: unknown[]) => service.dispatch(method, args));
}

service.subscribe((event: LiveEvent) => {
  win?.webContents.send(API_CHANNELS.event, event);
  if (!Notification.isSupported()) return;
  const note = (title: string, body: string): void => new Notification({ title, body }).show();
  if (event.type === 'run-finished') note(`Run ${event.status}`, event.error ? `${event.id}: ${event.error}` : event.id);
  if (event.type === 'run-grokked') note('Run grokked', `${event.id} at step ${event.step}`);
  if (event.type === 'run-crossed') note('H̃ crossed H̃*', `${event.id} at step ${event.step} (H̃* ${event.threshold})`);
  if (event.type === 'study-finished') note(`Study ${event.name} ${event.status}`, event.error ?? event.report ?? '');
});

async function importDialog(): Promise<void> {
  const r = await dialog.showOpenDialog({ properties: ['openFile', 'multiSelections'], filters: [{ name: 'Grokscope runs', extensions: ['grokrun', 'grokbundle'] }] });
  if (r.canceled) return;
  const reports = await importSources(libraryDir, r.filePaths);
  const lines = reports.map((x) => (x.ok ? x.outcomes.map((o) => o.message).join('\n') : `failed: ${x.error}`));
  await dialog.showMessageBox({ message: 'Import', detail: lines.join('\n') });
  win?.webContents.send(API_CHANNELS.event, { type: 'library-changed' } satisfies LiveEvent);
}

function buildMenu(): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      {
        label: 'File',
        submenu: [
          { label: 'Import runs…', accelerator: 'CmdOrCtrl+O', click: () => void importDialog() },
          { label: 'Open library folder', click: () => void shell.openPath(libraryDir) },
          { type: 'separator' },
          { role: 'quit' },
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
  app.on('second-instance', () => win?.focus());
  void app.whenReady().then(() => {
    buildMenu();
    createWindow();
  });
  app.on('window-all-closed', () => {
    void pool.destroy().finally(() => app.quit());
  });
}
