import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_CHANNELS, type ApiMethod, type GrokscopeApi, type IpcReply, type LiveEvent } from '../core/api.js';

/**
 * Exposes exactly the api.ts contract to the renderer, nothing more. Runs sandboxed: it may
 * import `electron` and nothing else of Node, so core/api.ts is bundled into it (electron.vite.config.ts).
 */
async function call(method: ApiMethod, ...args: unknown[]): Promise<never> {
  // The handler answers with the service's one-line error as a value (main/electron/index.ts).
  const reply = (await ipcRenderer.invoke(API_CHANNELS[method], ...args)) as IpcReply;
  if (!reply.ok) throw new Error(reply.error);
  return reply.result as never;
}

const api: GrokscopeApi = {
  listRuns: () => call('listRuns'),
  getRun: (id, options) => call('getRun', id, options),
  compare: (ids, options) => call('compare', ids, options),
  startRun: (request) => call('startRun', request),
  resumeRun: (id) => call('resumeRun', id),
  stopRun: (id) => call('stopRun', id),
  deleteRuns: (ids) => call('deleteRuns', ids),
  tagRuns: (ids, add, remove) => call('tagRuns', ids, add, remove),
  startStudy: (spec, options) => call('startStudy', spec, ...(options ? [options] : [])),
  planStudy: (spec) => call('planStudy', spec),
  listStudies: () => call('listStudies'),
  getStudyReport: (name) => call('getStudyReport', name),
  formChoices: () => call('formChoices'),
  importFiles: (files) => call('importFiles', files),
  exportRuns: (ids, kind) => call('exportRuns', ids, kind),
  exportModel: (id, step) => call('exportModel', id, step),
  subscribe: (listener) => {
    const handler = (_e: IpcRendererEvent, event: LiveEvent): void => listener(event);
    ipcRenderer.on(API_CHANNELS.event, handler);
    // A block, not `() => ipcRenderer.off(…)`: off returns ipcRenderer, which would reach the page.
    return () => {
      ipcRenderer.off(API_CHANNELS.event, handler);
    };
  },
};

contextBridge.exposeInMainWorld('grokscope', api);
