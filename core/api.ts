/**
 * The one typed contract every host serves (Electron IPC through the preload bridge, the local
 * web server over WebSocket, tests in-process). The renderer talks to nothing else.
 * This first version covers the run library; studies and live events extend it.
 */
export interface RunListItem {
  id: string;
  task: string;
  arch: string;
  condition: string;
  seed: number;
  status: string;
  T_grok: number | null;
  T_cross: number | null;
}

export interface MetricPoint {
  step: number;
  train_acc: number;
  test_acc: number;
  train_loss: number;
  test_loss: number;
  weight_norm: number;
  entropy: Record<string, number>;
}

export interface RunDetail {
  id: string;
  status: string;
  backend: string | null;
  config: Record<string, unknown>;
  events: Record<string, number | null> | null;
  metrics: MetricPoint[];
}

export interface GrokscopeApi {
  listRuns(): Promise<RunListItem[]>;
  getRun(id: string): Promise<RunDetail>;
}

/** IPC channel names, shared by main and preload so they cannot drift apart. */
export const API_CHANNELS = { listRuns: 'grokscope:listRuns', getRun: 'grokscope:getRun' } as const;
