import { spawn } from 'node:child_process';
import { mkdirSync, watch } from 'node:fs';
import path from 'node:path';
import { Library } from '../../core/library/library.js';
import { root } from './cli.js';

/** A small study of 6 runs (baseline, mix, norm-matched × 2 seeds), checkpointing every 20 steps. */
export const killSpec = {
  name: 'killed',
  preset: 'fast',
  overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 200, evalEvery: 10, spectrumEvery: 50, checkpointEvery: 20, lr: 0.01, backend: 'wasm' },
  tasks: ['mod-add'],
  archs: ['transformer'],
  conditions: ['baseline', 'mix', 'norm-matched'],
  seeds: [0, 1],
  earlyStopEvals: 0,
};

const bin = path.join(root, 'bin', 'grokscope.js');

/**
 * Start `grokscope study` and SIGKILL it (no handler runs, nothing is flushed on the way out)
 * once `afterCheckpoints` checkpoint files have been written, or `afterMs` after it started.
 * Resolves with whether the kill landed (false: the study had finished first).
 */
export function studyKilled(specFile: string, library: string, when: { afterCheckpoints: number } | { afterMs: number }, out: string): Promise<boolean> {
  mkdirSync(path.join(library, 'checkpoints'), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'study', specFile, '--library', library, '--workers', '2', '--out', out], { stdio: 'ignore' });
    let seen = 0;
    const watcher = watch(path.join(library, 'checkpoints'), { recursive: true }, (_event, file) => {
      if (!('afterCheckpoints' in when) || !file || !String(file).endsWith('.ckpt')) return;
      if (++seen === when.afterCheckpoints) child.kill('SIGKILL');
    });
    const timer = 'afterMs' in when ? setTimeout(() => child.kill('SIGKILL'), when.afterMs) : null;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      watcher.close();
      if (timer) clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(true);
      else if (code === 0) resolve(false);
      else reject(new Error(`study exited with ${code ?? signal}`));
    });
  });
}

export interface KeyedRun {
  status: string;
  metrics: unknown;
  events: unknown;
  norms: number[];
}

/** Each planned key's run: status, metrics, events, per-step norms. */
export async function runsByKey(library: string, study: string): Promise<Map<string, KeyedRun>> {
  return Library.with(library, async (lib) => {
    const out = new Map<string, KeyedRun>();
    const present = new Set((await lib.listRuns()).map((r) => r.id));
    for (const [key, id] of await lib.getStudyRuns(study)) {
      // A kill between the runner deleting a failed run and creating its replacement leaves the key
      // pointing at no run; the next invocation plans it again (core/study/runner.ts).
      if (!present.has(id)) {
        out.set(key, { status: 'missing', metrics: null, events: null, norms: [] });
        continue;
      }
      const run = await lib.getRun(id);
      out.set(key, { status: run.status, metrics: await lib.getMetrics(id), events: run.events, norms: Array.from(await lib.getStepNorms(id)) });
    }
    return out;
  });
}

/** Differences between a resumed study's runs and an uninterrupted one's (empty: identical). */
export async function differences(reference: string, resumed: string, study: string): Promise<string[]> {
  const want = await runsByKey(reference, study);
  const got = await runsByKey(resumed, study);
  const out: string[] = [];
  const keys = (m: Map<string, KeyedRun>): string => JSON.stringify([...m.keys()].sort());
  if (keys(got) !== keys(want)) out.push(`planned keys differ: ${keys(got)} vs ${keys(want)}`);
  const count = await Library.with(resumed, async (lib) => (await lib.listRuns()).length);
  if (count !== want.size) out.push(`${count} runs in the library for ${want.size} planned (a run trained twice under another id?)`);
  for (const [key, w] of want) {
    const g = got.get(key);
    if (!g) continue;
    if (g.status !== 'completed') out.push(`${key}: ${g.status}`);
    for (const field of ['metrics', 'events', 'norms'] as const) {
      if (JSON.stringify(g[field]) !== JSON.stringify(w[field])) out.push(`${key}: ${field} differ`);
    }
  }
  return out;
}
