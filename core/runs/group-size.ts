import os from 'node:os';
import type { RunConfig } from '../schema/run-config.js';
import type { BackendChoice } from '../schema/backend-choices.js';
import { probeWebGpu } from '../train/gpu/webgpu.js';
import { makeTask } from '../tasks/groups.js';
import { paramShapes } from '../models/config.js';

/**
 * How many runs of one shape a study packs into one run group (docs/backends.md, "Run groups").
 *
 * - CPU backends (`wasm+openblas`, `wasm`, `cpu`): 1. A group's members are computed one after
 *   another there, and measured per run-step a group is no faster (`npm run bench:step -- --backends
 *   wasm+openblas --groups 1,10`: quick Transformer 4.2 ms alone, 6.4 in a group of 10 — its members'
 *   buffers compete for the cache), while a group holds its worker until its longest run ends, so
 *   runs that stop early would leave a core idle that piscina could otherwise give to the next run.
 * - Device backends (`webgpu`, `tensorflow`), where a step costs per dispatch and per host read
 *   rather than per FLOP: as many as fit, up to GPU_GROUP_LIMIT (30: the size the stacked-training
 *   issue sets its GPU goals at), within GROUP_MEMORY_BUDGET of training state and activations.
 * A study spec's `groupSize` overrides the rule.
 */
export const GPU_GROUP_LIMIT = 30;
export const GROUP_MEMORY_BUDGET = Math.min(2 * 1024 ** 3, os.totalmem() / 4);

export type Engine = 'host' | 'device';

/** Bytes one member holds while training: parameters and AdamW moments, and the step's activations. */
export function memberBytes(config: RunConfig): number {
  const task = makeTask(config.task, config.p);
  const vocab = task.order + 1;
  const shapes = paramShapes({ arch: config.arch, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp }, vocab, task.order);
  const params = Object.values(shapes).reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  // Evaluations run over every pair; the widest activations are [pairs, dMlp] and a few [pairs, dModel].
  const pairs = task.order * task.order;
  const activations = pairs * (2 * config.dMlp + 10 * config.dModel + task.order);
  return 4 * (3 * params + activations);
}

/** Whether runs on this backend choice step on a device; `auto` asks the WebGPU probe (a child process). */
export async function engineOf(choice: BackendChoice): Promise<Engine> {
  if (choice === 'webgpu' || choice === 'tensorflow') return 'device';
  if (choice !== 'auto') return 'host';
  const probe = await probeWebGpu();
  return probe.ok && !probe.software ? 'device' : 'host';
}

export function groupSizeFor(config: RunConfig, engine: Engine): { size: number; reason: string } {
  if (engine === 'host') return { size: 1, reason: 'CPU backend: one run per group (docs/backends.md, "Run groups")' };
  const fit = Math.max(1, Math.floor(GROUP_MEMORY_BUDGET / memberBytes(config)));
  const size = Math.min(GPU_GROUP_LIMIT, fit);
  return { size, reason: size < GPU_GROUP_LIMIT ? `device backend: ${size} runs fit in ${(GROUP_MEMORY_BUDGET / 1024 ** 3).toFixed(1)} GiB` : `device backend: up to ${GPU_GROUP_LIMIT} runs per group` };
}
