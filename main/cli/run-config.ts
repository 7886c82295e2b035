import { readFileSync } from 'node:fs';
import { ConfigError, PRESETS, parseRunConfig, type PresetName, type RunConfig } from '../../core/schema/run-config.js';
import { UserError } from './errors.js';
import { TASK_NAMES } from '../../core/tasks/groups.js';

/** Flags of `grokscope run` that map onto RunConfig fields. */
export const RUN_FLAGS: { flag: string; field: keyof RunConfig; kind: 'int' | 'number' | 'string'; help: string }[] = [
  { flag: 'task', field: 'task', kind: 'string', help: TASK_NAMES.join(' | ') },
  { flag: 'p', field: 'p', kind: 'int', help: 'prime modulus for the Z/pZ tasks' },
  { flag: 'arch', field: 'arch', kind: 'string', help: 'transformer | mlp' },
  { flag: 'seed', field: 'seed', kind: 'int', help: 'seed of initialisation and split' },
  { flag: 'steps', field: 'steps', kind: 'int', help: 'training steps (budget)' },
  { flag: 'eval-every', field: 'evalEvery', kind: 'int', help: 'steps between evaluations' },
  { flag: 'condition', field: 'condition', kind: 'string', help: 'baseline | mix | norm-matched | logit-matched' },
  { flag: 'backend', field: 'backend', kind: 'string', help: 'auto | tensorflow | webgpu | wasm+openblas | wasm | cpu' },
  { flag: 'train-fraction', field: 'trainFraction', kind: 'number', help: 'share of pairs used for training' },
  { flag: 'lr', field: 'lr', kind: 'number', help: 'AdamW learning rate' },
  { flag: 'weight-decay', field: 'weightDecay', kind: 'number', help: 'AdamW decoupled weight decay' },
  { flag: 'd-model', field: 'dModel', kind: 'int', help: 'model width' },
  { flag: 'heads', field: 'nHeads', kind: 'int', help: 'attention heads' },
  { flag: 'd-mlp', field: 'dMlp', kind: 'int', help: 'MLP hidden width' },
  { flag: 'checkpoint-every', field: 'checkpointEvery', kind: 'int', help: 'steps between checkpoints' },
  { flag: 'spectrum-every', field: 'spectrumEvery', kind: 'int', help: 'steps between full spectra' },
  { flag: 'mix-form', field: 'mixForm', kind: 'string', help: 'mix intervention: orthogonal | entropy-penalty' },
  { flag: 'mix-strength', field: 'mixStrength', kind: 'number', help: 'α of the orthogonal mix or λ of the entropy penalty' },
  { flag: 'norm-target', field: 'normTargetRun', kind: 'string', help: 'norm-matched / logit-matched: the mix run whose ‖θ‖ / logit-scale trajectory to replay' },
  { flag: 'temperature', field: 'temperature', kind: 'number', help: 'fixed output temperature: the loss sees logits / T (default 1)' },
  { flag: 'init-scale', field: 'initScale', kind: 'number', help: 'multiply every initial weight by this (default 1; > 1 lengthens the plateau, docs/presets.md)' },
  { flag: 'init', field: 'init', kind: 'string', help: "initialisation: normal-fan-in (default: N(0, 1/fan_in) weights, zero biases) | torch-linear (PyTorch's nn.Linear default, docs/methods.md)" },
  { flag: 'early-stop', field: 'earlyStopEvals', kind: 'int', help: 'stop after this many evaluations in a row at test accuracy ≥ the grokking threshold (0 = never)' },
  { flag: 'probe', field: 'probe', kind: 'string', help: 'probe defining T_cross: resid.final | mlp.hidden | attn.out | embed' },
];

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function parseFlagValue(flag: string, kind: 'int' | 'number' | 'string', raw: string): string | number {
  if (kind === 'string') return raw;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (kind === 'int' && !Number.isInteger(value))) {
    throw new UserError(`--${flag} expects ${kind === 'int' ? 'an integer' : 'a number'} (got '${raw}')`);
  }
  return value;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UserError(`config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UserError(`config ${file} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Preset, then the config file's fields, then flags: later wins. */
export function buildRunConfig(opts: Record<string, unknown>): RunConfig {
  const file = typeof opts.config === 'string' ? readConfigFile(opts.config) : {};
  const presetName = (opts.preset ?? file.preset ?? 'quick') as string;
  if (!(presetName in PRESETS)) throw new UserError(`unknown preset '${presetName}' (expected ${Object.keys(PRESETS).join(' or ')})`);
  const merged: Record<string, unknown> = { ...PRESETS[presetName as PresetName], ...file, preset: presetName };
  for (const f of RUN_FLAGS) {
    const raw = opts[camel(f.flag)];
    if (raw !== undefined) merged[f.field] = parseFlagValue(f.flag, f.kind, String(raw));
  }
  // A new evaluation interval without a spectrum interval: keep spectra every 10th evaluation.
  if (opts.evalEvery !== undefined && opts.spectrumEvery === undefined && file.spectrumEvery === undefined) {
    merged.spectrumEvery = (merged.evalEvery as number) * 10;
  }
  try {
    return parseRunConfig(merged, typeof opts.config === 'string' ? `run config (${opts.config} + flags)` : 'run config');
  } catch (err) {
    if (err instanceof ConfigError) throw new UserError(err.message);
    throw err;
  }
}

/** The most runs one `run --seeds` trains as a group. */
export const MAX_GROUP_SEEDS = 1000;

/** `--seeds 0-4`, `0,3,7` or `0-2,9`: the seeds in the order given, each once. */
export function parseSeeds(raw: string): number[] {
  const seeds: number[] = [];
  for (const part of raw.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UserError(`--seeds expects seeds like 0-4 or 0,3,7 (got '${raw}')`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new UserError(`--seeds: the range ${part.trim()} runs backwards`);
    if (to - from + 1 + seeds.length > MAX_GROUP_SEEDS) throw new UserError(`--seeds: at most ${MAX_GROUP_SEEDS} runs in one group`);
    for (let s = from; s <= to; s++) if (!seeds.includes(s)) seeds.push(s);
  }
  return seeds;
}
