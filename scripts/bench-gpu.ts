/**
 * The GPU measurement of run groups, as one script for a machine that has a GPU but no Node and no
 * network (pack it with the workplace's GPU kit, run the bundle there). In one process, on
 * `webgpu` (or the backend named by the first argument): ms per run-step and per evaluation of a
 * run group at S = 1, 8, 32 (S from `--groups`), for both presets and architectures, with the
 * WGSL engine (our kernels), the stacked tfjs engine and, at S = 1, run by run, each with what a
 * step sent to the device (dispatches, submits, reads: Dawn's counters); then, where `python3` with CUDA is there, the same
 * steps in our PyTorch reference with S seeds stacked (scripts/torch_reference.py --device cuda).
 * Prints a table on stderr and one JSON array last on stdout; the `paper` line estimates the
 * paper study's GPU time from the reference preset's figures (240 runs × 30,000 steps, packed 30
 * to a group, evaluations every 100 steps).
 *
 * Usage: npx tsx scripts/bench-gpu.ts [backend=webgpu] [--groups 1,8,32] [--steps N] [--engines wgsl,stacked]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { selectBackend } from '../core/train/backend.js';
import { RunGroup, type GroupEngine } from '../core/train/run-group.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { dawnCounts } from '../core/train/gpu/webgpu.js';
import type { BackendChoice } from '../core/schema/backend-choices.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const backendChoice = (args[0] && !args[0].startsWith('--') ? args[0] : 'webgpu') as BackendChoice;
const groups = flag('--groups', '1,8,32').split(',').map(Number);
const engines = flag('--engines', 'wgsl,stacked').split(',');
const stepsArg = Number(flag('--steps', '0'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const info = await selectBackend(backendChoice);
process.stderr.write(`backend ${info.name}: ${info.note}\n`);

interface Row {
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
const rows: Row[] = [];

async function time(engine: GroupEngine, steps: number): Promise<{ step: number; evaluation: number; counts: typeof dawnCounts }> {
  for (let i = 0; i < 3; i++) await engine.trainStep();
  await engine.takeNorms(0); // settle queued work before timing
  // What 16 steps send to the device, with no read among them.
  const before = { ...dawnCounts };
  for (let i = 0; i < 16; i++) await engine.trainStep();
  const counts = { dispatches: (dawnCounts.dispatches - before.dispatches) / 16, submits: (dawnCounts.submits - before.submits) / 16, reads: (dawnCounts.reads - before.reads) / 16 };
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

for (const preset of ['quick', 'reference'] as const) {
  for (const arch of ['transformer', 'mlp'] as const) {
    const config: RunConfig = parseRunConfig({ ...PRESETS[preset], arch, backend: backendChoice });
    const steps = stepsArg || (preset === 'quick' ? 30 : 10);
    for (const S of groups) {
      const members = Array.from({ length: S }, (_, seed) => ({ config: { ...config, seed } }));
      for (const kind of S === 1 ? [...engines, 'run by run'] : engines) {
        let engine: GroupEngine | null = null;
        try {
          engine = kind === 'wgsl' ? await WgslGroup.create(members) : kind === 'stacked' ? new StackedGroup(members) : new RunGroup(members);
          const t = await time(engine, steps);
          const row = { engine: kind, backend: info.name, preset, arch, group: S, ms_per_run_step: +(t.step / S).toFixed(4), ms_per_eval: +(t.evaluation / S).toFixed(3), dispatches_per_step: t.counts.dispatches, submits_per_step: t.counts.submits, reads_per_step: t.counts.reads };
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

// PyTorch with CUDA, where it is: the reference column at the same S.
const torchScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
const torchRows: Record<string, unknown>[] = [];
if (existsSync(torchScript) && spawnSync('python3', ['-c', 'import torch; assert torch.cuda.is_available()'], { stdio: 'ignore' }).status === 0) {
  for (const preset of ['quick', 'reference']) {
    for (const arch of ['transformer', 'mlp']) {
      for (const S of groups) {
        const r = spawnSync('python3', [torchScript, '--preset', preset, '--arch', arch, '--group', String(S), '--device', 'cuda', '--steps', '30'], { encoding: 'utf8' });
        if (r.status !== 0) continue;
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
        torchRows.push(out);
        process.stderr.write(`torch cuda ${preset.padEnd(9)} ${arch.padEnd(11)} S=${String(S).padEnd(3)} ${(out.ms_per_run_step as number).toFixed(3).padStart(9)} ms/run-step\n`);
      }
    }
  }
} else process.stderr.write('no PyTorch with CUDA here: no reference column\n');

// The paper study: 240 runs (4 tasks × 2 archs × 3 conditions × 10 seeds) × 30,000 steps; the
// Transformer and MLP figures of the reference preset at the largest S measured.
const S = Math.max(...groups);
const ref = (arch: string) => [...rows].filter((r) => r.preset === 'reference' && r.arch === arch && r.group === S).sort((a, b) => a.ms_per_run_step - b.ms_per_run_step)[0];
const tf = ref('transformer');
const mlp = ref('mlp');
const paper = tf && mlp ? { group: S, engines: [tf.engine, mlp.engine], hours: (120 * 30000 * (tf.ms_per_run_step + tf.ms_per_eval / 100) + 120 * 30000 * (mlp.ms_per_run_step + mlp.ms_per_eval / 100)) / 3.6e6 } : null;
const software = /software adapter/.test(info.note);
if (paper) process.stderr.write(`paper study estimate at S=${S}: ${paper.hours.toFixed(2)} ${software ? 'hours on this SOFTWARE adapter (not a GPU figure)' : 'GPU-hours'} (one worker)\n`);
process.stdout.write(`${JSON.stringify({ adapter: info.note, software, rows, torch: torchRows, paper })}\n`);
