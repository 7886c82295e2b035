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
import { selectBackend } from '../core/train/backend.js';
import type { BackendChoice } from '../core/schema/backend-choices.js';
import { benchEngines, paperEstimate, torchRows } from './gpu-bench-lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const backendChoice = (args[0] && !args[0].startsWith('--') ? args[0] : 'webgpu') as BackendChoice;
const groups = flag('--groups', '1,8,32').split(',').map(Number);
const engines = flag('--engines', 'wgsl,stacked').split(',');
const steps = Number(flag('--steps', '0'));

const info = await selectBackend(backendChoice);
process.stderr.write(`backend ${info.name}: ${info.note}\n`);
const rows = await benchEngines({ info, backendChoice, groups, engines, steps });
const torch = torchRows(groups);
const paper = paperEstimate(rows, groups);
const software = /software adapter/.test(info.note);
if (paper) process.stderr.write(`paper study estimate at S=${paper.group}: ${paper.hours.toFixed(2)} ${software ? 'hours on this SOFTWARE adapter (not a GPU figure)' : 'GPU-hours'} (one worker)\n`);
process.stdout.write(`${JSON.stringify({ adapter: info.note, software, rows, torch, paper })}\n`);
