import { app, BrowserWindow, ipcMain } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_CHANNELS, type RunDetail, type RunListItem } from '../../core/api.js';
import { Library } from '../../core/library/library.js';
import { resolveLibraryDir } from '../../core/library/paths.js';

/**
 * Electron main process: a thin host of core. It validates every IPC argument and answers from
 * the run library; training runs in the piscina pool (wired in with the workbench issue).
 */
const libraryDir = resolveLibraryDir();
const here = path.dirname(fileURLToPath(import.meta.url));

function isRunId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length < 200;
}

ipcMain.handle(API_CHANNELS.listRuns, async (): Promise<RunListItem[]> => Library.with(libraryDir, (lib) => lib.listRuns()));
ipcMain.handle(API_CHANNELS.getRun, async (_event, id: unknown): Promise<RunDetail> => {
  if (!isRunId(id)) throw new Error('getRun expects a run id');
  return Library.with(libraryDir, async (lib) => {
    const run = await lib.getRun(await lib.resolveRunId(id));
    const metrics = await lib.getMetrics(run.id);
    return {
      id: run.id,
      status: run.status,
      backend: run.backend,
      config: run.config as unknown as Record<string, unknown>,
      events: run.events as unknown as Record<string, number | null> | null,
      metrics: metrics.map(({ step, train_acc, test_acc, train_loss, test_loss, weight_norm, entropy }) => ({ step, train_acc, test_acc, train_loss, test_loss, weight_norm, entropy })),
    };
  });
});

function createWindow(): void {
  const win = new BrowserWindow({
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
  void app.whenReady().then(createWindow);
  app.on('window-all-closed', () => app.quit());
}
