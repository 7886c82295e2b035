import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, type RunConfig } from '../../core/schema/run-config.js';
import type { HostParams } from '../../core/models/init.js';
import { makeTask } from '../../core/tasks/groups.js';
import type { Dataset } from '../../core/tasks/dataset.js';
import type { TrainState } from '../../core/train/trainer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The golden reference values (test/fixtures/golden/README.md says where they come from). */
export const GOLDEN_DIR = path.resolve(here, '../fixtures/golden');

export interface Golden {
  arch: 'transformer' | 'mlp';
  task: 'mod-add';
  p: number;
  d_model: number;
  n_heads?: number;
  d_mlp: number;
  inputs: number[][];
  labels: number[];
  train_indices: number[];
  params: Record<string, number[] | number[][]>;
  logits: number[][];
  train_loss: number;
  grads: Record<string, number[] | number[][]>;
  entropy: Record<string, number>;
  adamw: { lr: number; weight_decay: number; betas: [number, number]; eps: number; losses: number[]; params_after_3_steps: Record<string, number[] | number[][]> };
}

export function loadGolden(name: 'tiny-transformer' | 'tiny-mlp'): Golden {
  return JSON.parse(readFileSync(path.join(GOLDEN_DIR, `${name}.json`), 'utf8')) as Golden;
}

export function flat(x: number[] | number[][]): number[] {
  return (x as unknown[]).flat() as number[];
}

export function goldenConfig(g: Golden): RunConfig {
  return {
    ...PRESETS.fast,
    task: g.task,
    p: g.p,
    arch: g.arch,
    dModel: g.d_model,
    nHeads: g.n_heads ?? 1,
    dMlp: g.d_mlp,
    lr: g.adamw.lr,
    weightDecay: g.adamw.weight_decay,
    beta1: g.adamw.betas[0],
    beta2: g.adamw.betas[1],
    eps: g.adamw.eps,
  };
}

export function goldenDataset(g: Golden): Dataset {
  const task = makeTask(g.task, g.p);
  const trainIndices = Int32Array.from(g.train_indices);
  const inTrain = new Set(g.train_indices);
  const testIndices = Int32Array.from(g.labels.map((_, i) => i).filter((i) => !inTrain.has(i)));
  return {
    task,
    eqToken: g.p,
    vocab: g.p + 1,
    classes: g.p,
    inputs: Int32Array.from(g.inputs.flat()),
    labels: Int32Array.from(g.labels),
    trainIndices,
    testIndices,
  };
}

export function goldenState(g: Golden): TrainState {
  const params: HostParams = {};
  const zeros: HostParams = {};
  const zeros2: HostParams = {};
  for (const [name, value] of Object.entries(g.params)) {
    const shape = Array.isArray(value[0]) ? [value.length, (value[0] as number[]).length] : [value.length];
    params[name] = { shape, data: Float32Array.from(flat(value)) };
    zeros[name] = { shape, data: new Float32Array(params[name].data.length) };
    zeros2[name] = { shape, data: new Float32Array(params[name].data.length) };
  }
  return { step: 0, params, m: zeros, v: zeros2 };
}

/** float32 tolerance (test/fixtures/golden/README.md): 1e-4 relative (1e-5 absolute for gradients). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-4, abs = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) - (abs + rel * Math.abs(expected[i])));
  expect(worst).toBeLessThanOrEqual(0);
}

/** ‖actual − expected‖ / ‖expected‖ (the fused steps' gradients against the reference's). */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

/** What a group engine must offer for the golden check (StackedGroup and WgslGroup do). */
interface GoldenGroup {
  trainLosses(): Promise<number[]>;
  trainStep(): Promise<void>;
  snapshot(i: number): Promise<TrainState>;
  dispose(): void;
}

/**
 * A group engine gives its middle slice the golden values — the loss, and the parameters after
 * three AdamW steps — with the golden run between two other runs on the same split (so a slice
 * that read its neighbours' rows would show). `make` builds the group from its members and datasets.
 */
export async function expectGoldenSlice(make: (members: { config: RunConfig; state?: TrainState }[], datasets: Dataset[]) => GoldenGroup | Promise<GoldenGroup>, backend?: RunConfig['backend']): Promise<void> {
  for (const name of ['tiny-transformer', 'tiny-mlp'] as const) {
    const g = loadGolden(name);
    const config = backend ? { ...goldenConfig(g), backend } : goldenConfig(g);
    const ds = goldenDataset(g);
    const other = (seed: number) => ({ config: { ...config, seed } });
    const group = await make([other(7), { config, state: goldenState(g) }, other(8)], [ds, ds, ds]);
    try {
      const losses = await group.trainLosses();
      expect(Math.abs(losses[1] - g.train_loss)).toBeLessThan(1e-4 * g.train_loss);
      for (let s = 0; s < 3; s++) await group.trainStep();
      const after = await group.snapshot(1);
      for (const [param, expected] of Object.entries(g.adamw.params_after_3_steps)) expectClose(after.params[param].data, flat(expected));
    } finally {
      group.dispose();
    }
  }
}
