import type { GrokscopeApi, LiveEvent } from '../../core/api';

/**
 * The api.ts contract for the renderer: the Electron preload bridge when present, else a
 * WebSocket to `grokscope serve` (same origin; the access token travels in the cookie the server
 * set when the page was opened with ?token=…, and in the query as a fallback).
 */
export function connectApi(): GrokscopeApi {
  const bridged = (window as unknown as { grokscope?: GrokscopeApi }).grokscope;
  if (bridged) return bridged;
  const token = new URLSearchParams(location.search).get('token');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  let socket: WebSocket;
  let ready: Promise<void>;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(e: LiveEvent) => void>();
  const open = (): void => {
    socket = new WebSocket(url);
    ready = new Promise((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error('cannot reach grokscope serve (is it running, and was the page opened with its token?)'));
    });
    socket.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown; error?: string; event?: LiveEvent };
      if (msg.event) {
        for (const l of listeners) l(msg.event);
        return;
      }
      const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
      if (!p) return;
      pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    };
    socket.onclose = () => {
      for (const p of pending.values()) p.reject(new Error('connection to grokscope serve closed'));
      pending.clear();
      // Reconnect after a pause: a restarted server comes back without a page reload.
      setTimeout(open, 1000);
    };
  };
  open();
  const call = async (method: string, ...args: unknown[]): Promise<unknown> => {
    // JSON turns a trailing `undefined` (an optional argument left out) into null: drop it.
    while (args.length && args[args.length - 1] === undefined) args.pop();
    await ready;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, args }));
    });
  };
  return {
    listRuns: () => call('listRuns') as ReturnType<GrokscopeApi['listRuns']>,
    getRun: (id, options) => call('getRun', id, options) as ReturnType<GrokscopeApi['getRun']>,
    compare: (ids, options) => call('compare', ids, options) as ReturnType<GrokscopeApi['compare']>,
    startRun: (r) => call('startRun', r) as ReturnType<GrokscopeApi['startRun']>,
    resumeRun: (id) => call('resumeRun', id) as ReturnType<GrokscopeApi['resumeRun']>,
    stopRun: (id) => call('stopRun', id) as ReturnType<GrokscopeApi['stopRun']>,
    deleteRuns: (ids) => call('deleteRuns', ids) as ReturnType<GrokscopeApi['deleteRuns']>,
    tagRuns: (ids, add, remove) => call('tagRuns', ids, add, remove) as ReturnType<GrokscopeApi['tagRuns']>,
    startStudy: (spec, options) => call('startStudy', spec, ...(options ? [options] : [])) as ReturnType<GrokscopeApi['startStudy']>,
    planStudy: (spec) => call('planStudy', spec) as ReturnType<GrokscopeApi['planStudy']>,
    listStudies: () => call('listStudies') as ReturnType<GrokscopeApi['listStudies']>,
    getStudyReport: (name) => call('getStudyReport', name) as ReturnType<GrokscopeApi['getStudyReport']>,
    formChoices: () => call('formChoices') as ReturnType<GrokscopeApi['formChoices']>,
    importFiles: (files) => call('importFiles', files) as ReturnType<GrokscopeApi['importFiles']>,
    exportRuns: (ids, kind) => call('exportRuns', ids, kind) as ReturnType<GrokscopeApi['exportRuns']>,
    exportModel: (id, step) => call('exportModel', id, step) as ReturnType<GrokscopeApi['exportModel']>,
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}
