import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_CHANNELS, type GrokscopeApi, type LiveEvent } from '../core/api.js';

/** Exposes exactly the api.ts contract to the renderer, nothing more. */
const api: GrokscopeApi = {
  listRuns: () => ipcRenderer.invoke(API_CHANNELS.listRuns),
  getRun: (id, options) => ipcRenderer.invoke(API_CHANNELS.getRun, id, options),
  compare: (ids, options) => ipcRenderer.invoke(API_CHANNELS.compare, ids, options),
  startRun: (request) => ipcRenderer.invoke(API_CHANNELS.startRun, request),
  resumeRun: (id) => ipcRenderer.invoke(API_CHANNELS.resumeRun, id),
  stopRun: (id) => ipcRenderer.invoke(API_CHANNELS.stopRun, id),
  deleteRuns: (ids) => ipcRenderer.invoke(API_CHANNELS.deleteRuns, ids),
  tagRuns: (ids, add, remove) => ipcRenderer.invoke(API_CHANNELS.tagRuns, ids, add, remove),
  startStudy: (spec, options) => ipcRenderer.invoke(API_CHANNELS.startStudy, spec, ...(options ? [options] : [])),
  planStudy: (spec) => ipcRenderer.invoke(API_CHANNELS.planStudy, spec),
  listStudies: () => ipcRenderer.invoke(API_CHANNELS.listStudies),
  getStudyReport: (name) => ipcRenderer.invoke(API_CHANNELS.getStudyReport, name),
  formChoices: () => ipcRenderer.invoke(API_CHANNELS.formChoices),
  importFiles: (files) => ipcRenderer.invoke(API_CHANNELS.importFiles, files),
  exportRuns: (ids, kind) => ipcRenderer.invoke(API_CHANNELS.exportRuns, ids, kind),
  exportModel: (id, step) => ipcRenderer.invoke(API_CHANNELS.exportModel, id, step),
  subscribe: (listener) => {
    const handler = (_e: IpcRendererEvent, event: LiveEvent): void => listener(event);
    ipcRenderer.on(API_CHANNELS.event, handler);
    return () => ipcRenderer.off(API_CHANNELS.event, handler);
  },
};

contextBridge.exposeInMainWorld('grokscope', api);
