import { contextBridge, ipcRenderer } from 'electron';
import { API_CHANNELS, type GrokscopeApi } from '../core/api.js';

/** Exposes exactly the api.ts contract to the renderer, nothing more. */
const api: GrokscopeApi = {
  listRuns: () => ipcRenderer.invoke(API_CHANNELS.listRuns),
  getRun: (id: string) => ipcRenderer.invoke(API_CHANNELS.getRun, id),
};

contextBridge.exposeInMainWorld('grokscope', api);
