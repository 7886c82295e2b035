import { EventEmitter } from 'node:events';

/**
 * A stand-in for the `electron` module, so that main/electron/index.ts and preload/index.ts run
 * in Node under vitest (the Electron binary cannot be downloaded here; docs/decisions.md, "Hosts").
 * It has what those two files use — app, BrowserWindow with its webContents, ipcMain, ipcRenderer,
 * contextBridge, Menu, dialog, shell, Notification — and records what they are asked. Load it in
 * a test file with
 *
 *   vi.mock('electron', async () => (await import('./helpers/fake-electron.js')).electronModule());
 *
 * and drive it through `fake` (the same object main and the preload see).
 *
 * Where Electron's behaviour is observable to our code, the stand-in copies it: IPC arguments,
 * results and events are structured-cloned and arrive asynchronously; an invoke whose handler
 * throws rejects with Electron's "Error invoking remote method '…': Error: …"; a second handler on
 * a channel throws; what crosses the context bridge is copied (functions proxied, errors reduced to
 * their message); a closed window's webContents throws "Object has been destroyed"; app.quit
 * emits before-quit, closes windows without window-all-closed, then will-quit and quit, each
 * cancellable by preventDefault as in Electron. What it cannot show: docs/decisions.md.
 */

export interface OpenDialogAnswer {
  canceled: boolean;
  filePaths: string[];
}

export interface MenuItem {
  label?: string;
  role?: string;
  type?: string;
  accelerator?: string;
  enabled?: boolean;
  click?: (...args: unknown[]) => unknown;
  submenu?: MenuItem[];
}

/** An Electron-style event: `preventDefault` cancels what it announces. */
function cancellable<T extends object>(fields: T): T & { defaultPrevented: boolean; preventDefault(): void } {
  const e = {
    ...fields,
    defaultPrevented: false,
    preventDefault() {
      e.defaultPrevented = true;
    },
  };
  return e;
}

/** Electron's IPC serialises with the structured clone algorithm: functions and symbols throw, class instances arrive as plain objects. */
function ipcClone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * What contextBridge does to a value crossing between the preload's world and the page's: a copy,
 * functions proxied (their arguments and results cross too). `secret` must never cross: the
 * preload's ipcRenderer, which would give the page every channel (ipcRenderer.off returns it).
 */
function bridged(value: unknown, secret: object, seen = new Set<object>()): unknown {
  if (value === secret) throw new Error('the preload handed ipcRenderer to the page');
  if (typeof value === 'function') {
    const fn = value as (...a: unknown[]) => unknown;
    return (...args: unknown[]) => {
      let result: unknown;
      try {
        result = fn(...args.map((a) => bridged(a, secret)));
      } catch (err) {
        throw bridgedError(err);
      }
      return bridged(result, secret);
    };
  }
  if (value instanceof Promise) return value.then((v) => bridged(v, secret), (err: unknown) => Promise.reject(bridgedError(err)));
  if (value instanceof Error) return bridgedError(value);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer) && !(value instanceof Date)) {
    if (seen.has(value)) throw new Error('an object with a cycle cannot cross the context bridge');
    seen.add(value);
    const copy = Array.isArray(value) ? value.map((v) => bridged(v, secret, seen)) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bridged(v, secret, seen)]));
    seen.delete(value);
    return copy;
  }
  return value;
}

/** An error crossing the bridge keeps its message only (not its class, name or fields). */
function bridgedError(err: unknown): Error {
  return new Error(err instanceof Error ? err.message : String(err));
}

class FakeWebContents extends EventEmitter {
  destroyed = false;
  windowOpenHandler: ((details: { url: string; frameName: string; features: string; disposition: string }) => { action: 'allow' | 'deny' }) | null = null;
  /** Everything sent to the page, in order. */
  readonly sent: { channel: string; args: unknown[] }[] = [];

  constructor(private readonly fake: FakeElectron) {
    super();
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new TypeError('Object has been destroyed');
    const copy = ipcClone(args);
    this.sent.push({ channel, args: copy });
    setImmediate(() => this.fake.ipcRenderer.emit(channel, { sender: this.fake.ipcRenderer, senderId: 0 }, ...copy));
  }

  setWindowOpenHandler(handler: FakeWebContents['windowOpenHandler']): void {
    this.windowOpenHandler = handler;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  /** A navigation the page starts (a link, location.href, a file dropped where the page did not take it): true when it goes ahead. */
  navigate(url: string): boolean {
    const event = cancellable({ url, isSameDocument: false, isMainFrame: true, frame: null, initiator: null });
    this.emit('will-navigate', event, url, false, true, 0, 0);
    return !event.defaultPrevented;
  }

  /** window.open or a target=_blank link: what the window open handler answers ('allow' without one, as in Electron). */
  openWindow(url: string): 'allow' | 'deny' {
    if (!this.windowOpenHandler) return 'allow';
    return this.windowOpenHandler({ url, frameName: '', features: '', disposition: 'foreground-tab' }).action;
  }
}

export interface WindowOptions {
  width?: number;
  height?: number;
  title?: string;
  webPreferences?: { preload?: string; contextIsolation?: boolean; nodeIntegration?: boolean; sandbox?: boolean; [k: string]: unknown };
  [k: string]: unknown;
}

export class FakeBrowserWindow extends EventEmitter {
  readonly webContents: FakeWebContents;
  title: string;
  destroyed = false;
  minimized = false;
  focused = false;
  /** What the window was asked to show: loadFile's path or loadURL's URL. */
  loaded: { file?: string; url?: string } | null = null;

  constructor(
    private readonly fake: FakeElectron,
    readonly options: WindowOptions = {},
  ) {
    super();
    this.webContents = new FakeWebContents(fake);
    this.title = options.title ?? '';
    fake.windows.push(this);
  }

  loadFile(file: string): Promise<void> {
    this.loaded = { file };
    return Promise.resolve();
  }

  loadURL(url: string): Promise<void> {
    this.loaded = { url };
    return Promise.resolve();
  }

  setTitle(title: string): void {
    if (this.destroyed) throw new TypeError('Object has been destroyed');
    this.title = title;
  }

  getTitle(): string {
    return this.title;
  }

  isMinimized(): boolean {
    return this.minimized;
  }

  minimize(): void {
    this.minimized = true;
  }

  restore(): void {
    this.minimized = false;
  }

  focus(): void {
    this.focused = true;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Closes the window as the user would; the last one closed (not while quitting) emits app 'window-all-closed'. */
  close(): void {
    if (this.destroyed) return;
    const e = cancellable({});
    this.emit('close', e);
    if (e.defaultPrevented) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
    if (!this.fake.quitting && this.fake.windows.every((w) => w.destroyed)) this.fake.app.emit('window-all-closed');
  }
}

/** `new BrowserWindow(options)` and `BrowserWindow.getAllWindows()`, bound to one stand-in. */
type BrowserWindowClass = (new (options?: WindowOptions) => FakeBrowserWindow) & { getAllWindows(): FakeBrowserWindow[] };

function makeBrowserWindow(fake: FakeElectron): BrowserWindowClass {
  return class BrowserWindow extends FakeBrowserWindow {
    static getAllWindows(): FakeBrowserWindow[] {
      return fake.windows.filter((w) => !w.destroyed);
    }

    constructor(options?: WindowOptions) {
      super(fake, options);
    }
  };
}


class FakeIpcMain extends EventEmitter {
  readonly handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();

  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

class FakeIpcRenderer extends EventEmitter {
  /** Every invoke, with the arguments as the main process received them. */
  readonly invoked: { channel: string; args: unknown[] }[] = [];

  constructor(private readonly fake: FakeElectron) {
    super();
  }

  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const copy = ipcClone(args); // throws DataCloneError for what IPC cannot carry, as Electron does
    this.invoked.push({ channel, args: copy });
    await new Promise((r) => setImmediate(r));
    const handler = this.fake.ipcMain.handlers.get(channel);
    const sender = this.fake.windows.find((w) => !w.destroyed)?.webContents ?? null;
    let result: unknown;
    try {
      if (!handler) throw new Error(`No handler registered for '${channel}'`);
      result = await handler({ sender, processId: 1, frameId: 1 }, ...copy);
    } catch (err) {
      // Electron's wording (lib/renderer/api/ipc-renderer.ts): the error as error.toString() gives it.
      throw new Error(`Error invoking remote method '${channel}': ${String(err)}`);
    }
    return ipcClone(result);
  }
}

function makeNotification(fake: FakeElectron) {
  return class FakeNotification {
    static isSupported(): boolean {
      return fake.notificationsSupported;
    }

    constructor(readonly options: { title: string; body?: string }) {}

    show(): void {
      fake.notifications.push({ title: this.options.title, body: this.options.body ?? '' });
    }
  };
}

const ROLES = new Set(['quit', 'viewMenu', 'fileMenu', 'editMenu', 'windowMenu', 'appMenu', 'reload', 'forceReload', 'toggleDevTools', 'togglefullscreen', 'close', 'minimize', 'copy', 'paste', 'cut', 'undo', 'redo', 'selectAll']);

/** Menu.buildFromTemplate's checks that matter to a template: a known role, a label or a separator, click a function. */
function checkTemplate(items: MenuItem[], where = 'menu'): void {
  for (const item of items) {
    if (item.role !== undefined && !ROLES.has(item.role)) throw new Error(`${where}: unknown role '${item.role}'`);
    if (item.role === undefined && item.type !== 'separator' && !item.label) throw new Error(`${where}: an item without label, role or type separator`);
    if (item.click !== undefined && typeof item.click !== 'function') throw new Error(`${where} › ${item.label}: click is not a function`);
    if (item.submenu) checkTemplate(item.submenu, `${where} › ${item.label ?? item.role}`);
  }
}

/** The whole stand-in: the module's exports plus what the tests read and set. */
export class FakeElectron {
  readonly windows: FakeBrowserWindow[] = [];
  readonly notifications: { title: string; body: string }[] = [];
  notificationsSupported = true;
  /** The context bridge's page side: what exposeInMainWorld put on `window`, as the page sees it. */
  readonly mainWorld: Record<string, unknown> = {};
  /** What the preload passed to exposeInMainWorld, before the bridge copied it. */
  readonly exposed: Record<string, unknown> = {};
  /** app.getPath answers, by name (tests set userData). */
  readonly paths: Record<string, string> = {};
  quitting = false;
  quitCount = 0;
  /** Resolves when the app has quit (the 'quit' event went out). */
  readonly quitted: Promise<void>;
  private markQuitted!: () => void;
  /** The last Menu.setApplicationMenu template. */
  applicationMenu: MenuItem[] | null = null;
  /** What the open dialogs were asked, and the answers queued for them (canceled when none is queued). */
  readonly openDialogs: Record<string, unknown>[] = [];
  readonly openAnswers: OpenDialogAnswer[] = [];
  readonly messageBoxes: { message: string; detail?: string }[] = [];
  readonly openedPaths: string[] = [];
  readonly openedExternal: string[] = [];

  readonly ipcMain = new FakeIpcMain();
  readonly ipcRenderer = new FakeIpcRenderer(this);
  readonly BrowserWindow = makeBrowserWindow(this);
  readonly Notification = makeNotification(this);
  readonly app: EventEmitter & {
    getPath(name: string): string;
    getName(): string;
    getVersion(): string;
    requestSingleInstanceLock(): boolean;
    whenReady(): Promise<void>;
    isReady(): boolean;
    quit(): void;
  };

  readonly contextBridge = {
    exposeInMainWorld: (key: string, api: unknown): void => {
      if (key in this.mainWorld) throw new Error(`Cannot bind an API on top of an existing property on the window object`);
      this.exposed[key] = api;
      this.mainWorld[key] = bridged(api, this.ipcRenderer);
    },
  };

  readonly Menu = {
    buildFromTemplate: (template: MenuItem[]): { items: MenuItem[] } => {
      checkTemplate(template);
      return { items: template };
    },
    setApplicationMenu: (menu: { items: MenuItem[] } | null): void => {
      this.applicationMenu = menu?.items ?? null;
    },
  };

  readonly dialog = {
    showOpenDialog: (...args: unknown[]): Promise<OpenDialogAnswer> => {
      const options = (args.length > 1 ? args[1] : args[0]) as Record<string, unknown>;
      this.openDialogs.push(options);
      return Promise.resolve(this.openAnswers.shift() ?? { canceled: true, filePaths: [] });
    },
    showMessageBox: (...args: unknown[]): Promise<{ response: number; checkboxChecked: boolean }> => {
      this.messageBoxes.push((args.length > 1 ? args[1] : args[0]) as { message: string; detail?: string });
      return Promise.resolve({ response: 0, checkboxChecked: false });
    },
  };

  readonly shell = {
    openPath: (p: string): Promise<string> => {
      this.openedPaths.push(p);
      return Promise.resolve('');
    },
    openExternal: (url: string): Promise<void> => {
      this.openedExternal.push(url);
      return Promise.resolve();
    },
  };

  constructor() {
    this.quitted = new Promise((r) => (this.markQuitted = r));
    const app = new EventEmitter() as FakeElectron['app'];
    let ready = false;
    app.getPath = (name) => {
      const p = this.paths[name];
      if (!p) throw new Error(`Failed to get '${name}' path`);
      return p;
    };
    app.getName = () => 'Grokscope';
    app.getVersion = () => '0.0.0-test';
    app.requestSingleInstanceLock = () => true;
    app.isReady = () => ready;
    app.whenReady = () =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          if (!ready) app.emit('ready');
          ready = true;
          resolve();
        }),
      );
    app.quit = () => {
      this.quitCount++;
      const before = cancellable({});
      app.emit('before-quit', before);
      if (before.defaultPrevented) return;
      this.quitting = true;
      for (const w of this.windows) w.close();
      const will = cancellable({});
      app.emit('will-quit', will);
      if (will.defaultPrevented) {
        this.quitting = false;
        return;
      }
      app.emit('quit', cancellable({}), 0);
      this.markQuitted();
    };
    this.app = app;
  }

  /** The module as `import … from 'electron'` sees it. */
  module(): Record<string, unknown> {
    const m = {
      app: this.app,
      BrowserWindow: this.BrowserWindow,
      ipcMain: this.ipcMain,
      ipcRenderer: this.ipcRenderer,
      contextBridge: this.contextBridge,
      Menu: this.Menu,
      dialog: this.dialog,
      shell: this.shell,
      Notification: this.Notification,
    };
    return { ...m, default: m };
  }

  /** A menu item by its path of labels (or roles), e.g. menuItem('File', 'Open recent', '/tmp/lib'). */
  menuItem(...labels: string[]): MenuItem {
    let items = this.applicationMenu ?? [];
    let found: MenuItem | undefined;
    for (const label of labels) {
      found = items.find((i) => (i.label ?? i.role) === label);
      if (!found) throw new Error(`no menu item '${labels.join(' › ')}' (at '${label}': ${items.map((i) => i.label ?? i.role ?? i.type).join(', ')})`);
      items = found.submenu ?? [];
    }
    return found!;
  }

  /** Every item of the application menu with its path of labels. */
  menuItems(items: MenuItem[] = this.applicationMenu ?? [], trail: string[] = []): { path: string[]; item: MenuItem }[] {
    return items.flatMap((item) => {
      const p = [...trail, item.label ?? item.role ?? item.type ?? '?'];
      return [{ path: p, item }, ...(item.submenu ? this.menuItems(item.submenu, p) : [])];
    });
  }
}

/** The one stand-in of a test file: main and the preload import it as `electron`, the test reads it. */
export const fake = new FakeElectron();

export function electronModule(): Record<string, unknown> {
  return fake.module();
}
