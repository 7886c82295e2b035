import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import type { BackendInfo } from '../core/train/backend.js';
import { RunGroup } from '../core/train/run-group.js';
import type { GroupEngine } from '../core/train/engine.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { deviceWorkPerStep } from '../core/train/gpu/webgpu.js';
import type { BackendChoice } from '../core/schema/backend-choices.js';

/**
 * The GPU measurements shared by scripts/bench-gpu.ts and scripts/gpu-session.ts: ms per run-step
 * and per evaluation of run groups on each engine with what a step sends to the device, the
 * PyTorch CUDA reference beside them, and the paper study's estimate from them.
 */
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface Row {
  engine: string;
  backend: string;
  preset: string;
  arch: string;
  group: number;
  ms_per_run_step: number;
  ms_per_eval: number;
  dispatches_per_step: number;
  submits_per_step: number;
  reads_per_step: number;
}

async function time(engine: GroupEngine, steps: number): Promise<{ step: number; evaluation: number; counts: Awaited<ReturnType<typeof deviceWorkPerStep>> }> {
  for (let i = 0; i < 3; i++) await engine.trainStep();
  await engine.takeNorms(0); // settle queued work before timing
  // What 16 steps send to the device, with no read among them.
  const counts = await deviceWorkPerStep(16, () => engine.trainStep());
  await engine.takeNorms(0);
  // Wall time over all steps, ended by a read (queued device work finishes before it answers):
  // per-step timings would measure only how fast the host enqueues.
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await engine.trainStep();
  await engine.takeNorms(0);
  const perStep = (performance.now() - t0) / steps;
  const evals: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await engine.evaluate(engine.active(), false);
    evals.push(performance.now() - t0);
  }
  return { step: perStep, evaluation: median(evals), counts };
}

export async function benchEngines(o: { info: BackendInfo; backendChoice: BackendChoice; groups: number[]; engines: string[]; steps: number; presets?: ('quick' | 'reference')[]; runByRun?: boolean }): Promise<Row[]> {
  const { info, backendChoice, groups, engines } = o;
  const rows: Row[] = [];
  for (const preset of o.presets ?? (['quick', 'reference'] as const)) {
    for (const arch of ['transformer', 'mlp'] as const) {
      const config: RunConfig = parseRunConfig({ ...PRESETS[preset], arch, backend: backendChoice });
      const steps = o.steps || (preset === 'quick' ? 30 : 10);
      for (const S of groups) {
        const members = Array.from({ length: S }, (_, seed) => ({ config: { ...config, seed } }));
        for (const kind of S === 1 && o.runByRun !== false ? [...engines, 'run by run'] : engines) {
          let engine: GroupEngine | null = null;
          try {
            engine = kind === 'wgsl' ? await WgslGroup.create(members) : kind === 'stacked' ? new StackedGroup(members) : new RunGroup(members);
            const t = await time(engine, steps);
            const row = { engine: kind, backend: info.name, preset, arch, group: S, ms_per_run_step: +(t.step / S).toFixed(4), ms_per_eval: +(t.evaluation / S).toFixed(3), dispatches_per_step: t.counts.dispatchesPerStep, submits_per_step: t.counts.submitsPerStep, reads_per_step: t.counts.readsPerStep };
            rows.push(row);
            process.stderr.write(`${info.name} ${preset.padEnd(9)} ${arch.padEnd(11)} S=${String(S).padEnd(3)} ${kind.padEnd(10)} ${String(row.ms_per_run_step).padStart(9)} ms/run-step  eval ${row.ms_per_eval} ms/run  ${row.dispatches_per_step} dispatches, ${row.submits_per_step} submits, ${row.reads_per_step} reads a step\n`);
          } catch (err) {
            process.stderr.write(`${preset} ${arch} S=${S} ${kind}: ${(err as Error).message}\n`);
          } finally {
            engine?.dispose();
          }
        }
      }
    }
  }
  return rows;
}

// PyTorch with CUDA, where it is: the reference column at the same S.
export function torchRows(groups: number[], scriptDir = path.dirname(fileURLToPath(import.meta.url)), presets = ['quick', 'reference']): Record<string, unknown>[] {
  const torchScript = path.resolve(scriptDir, 'torch_reference.py');
  const out: Record<string, unknown>[] = [];
  if (existsSync(torchScript) && spawnSync('python3', ['-c', 'import torch; assert torch.cuda.is_available()'], { stdio: 'ignore' }).status === 0) {
    for (const preset of presets) {
      for (const arch of ['transformer', 'mlp']) {
        for (const S of groups) {
          const r = spawnSync('python3', [torchScript, '--preset', preset, '--arch', arch, '--group', String(S), '--device', 'cuda', '--steps', '30'], { encoding: 'utf8' });
          if (r.status !== 0) continue;
          const r2 = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
          out.push(r2);
          process.stderr.write(`torch cuda ${preset.padEnd(9)} ${arch.padEnd(11)} S=${String(S).padEnd(3)} ${(r2.ms_per_run_step as number).toFixed(3).padStart(9)} ms/run-step\n`);
        }
      }
    }
  } else process.stderr.write('no PyTorch with CUDA here: no reference column\n');
  return out;
}

// The paper study: 240 runs (4 tasks × 2 archs × 3 conditions × 10 seeds) × 30,000 steps; the
// Transformer and MLP figures of the reference preset at the largest S measured.
export function paperEstimate(rows: Row[], groups: number[]): { group: number; engines: string[]; hours: number } | null {
  const S = Math.max(...groups);
  const ref = (arch: string) => [...rows].filter((r) => r.preset === 'reference' && r.arch === arch && r.group === S).sort((a, b) => a.ms_per_run_step - b.ms_per_run_step)[0];
  const tf = ref('transformer');
  const mlp = ref('mlp');
  return tf && mlp ? { group: S, engines: [tf.engine, mlp.engine], hours: (120 * 30000 * (tf.ms_per_run_step + tf.ms_per_eval / 100) + 120 * 30000 * (mlp.ms_per_run_step + mlp.ms_per_eval / 100)) / 3.6e6 } : null;
}
