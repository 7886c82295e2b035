import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { loadCheckpoint } from '../core/train/checkpoint.js';
import { Library } from '../core/library/library.js';
import { readSafetensors, writeSafetensors, f32Tensor, MAX_HEADER_BYTES } from '../core/interop/safetensors.js';
import { fromTransformerLens, toTransformerLens } from '../core/interop/transformerlens.js';
import { initParams } from '../core/models/init.js';
import { expectCleanError, lastJson, root, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

/**
 * Other tools' formats. The TransformerLens export is checked by an independent implementation:
 * Debian's python3-torch recomputes the exported model's logits with TransformerLens' formulas
 * (test/python/transformerlens_check.py, which reads the file with a plain reader) and they must
 * equal Grokscope's own, and give the run's final accuracies.
 */
const PYTHON = process.env.GROKSCOPE_PYTHON ?? '/usr/bin/python3';
const tmp = tempDir();
const library = path.join(tmp.dir, 'lib');
const tiny = { p: 11, 'd-model': 16, heads: 2, 'd-mlp': 32, steps: 300 };
const flags = Object.entries(tiny).flatMap(([k, v]) => [`--${k}`, String(v)]);
let transformer: { id: string; final: { train_acc: number; test_acc: number } };
let mlp: { id: string };

beforeAll(async () => {
  await selectBackend('wasm');
  const t = runCli(['run', '--preset', 'fast', ...flags, '--library', library, '--json']);
  expect(t.code, t.stderr).toBe(0);
  transformer = lastJson(t.stdout) as typeof transformer;
  const m = runCli(['run', '--preset', 'fast', '--arch', 'mlp', ...flags, '--steps', '100', '--library', library, '--json']);
  expect(m.code, m.stderr).toBe(0);
  mlp = lastJson(m.stdout) as typeof mlp;
  // The export every test below reads (the first one checks it).
  const e = runCli(['export', transformer.id, '--format', 'transformerlens', '-o', path.join(tmp.dir, 'tl'), '--library', library]);
  expect(e.code, e.stderr).toBe(0);
}, 120_000);
afterAll(() => tmp.cleanup());

/** A file with this header (written as given) and `dataBytes` zero bytes of data. */
function raw(header: unknown, dataBytes: number, lengthField?: bigint): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthField ?? BigInt(h.length));
  return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
}

describe('safetensors', () => {
  it('round-trips tensors and metadata, with data offsets contiguous from 0 and an 8-byte-aligned header', () => {
    const a = Float32Array.from({ length: 6 }, (_, i) => i / 7);
    const buf = writeSafetensors([f32Tensor('a', [2, 3], a), { name: 'm', dtype: 'BOOL', shape: [2, 2], bytes: Uint8Array.of(1, 0, 1, 1) }, f32Tensor('s', [], Float32Array.of(-Infinity))], { k: 'v' });
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header.a.data_offsets).toEqual([0, 24]);
    expect(header.m.data_offsets).toEqual([24, 28]);
    expect(header.s).toEqual({ dtype: 'F32', shape: [], data_offsets: [28, 32] });
    expect(header.__metadata__).toEqual({ k: 'v' });
    const back = readSafetensors(buf);
    expect(new Float32Array(back.tensors[0].bytes.slice().buffer)).toEqual(a);
    expect(Array.from(back.tensors[1].bytes)).toEqual([1, 0, 1, 1]);
    expect(back.metadata).toEqual({ k: 'v' });
  });

  const cases: [string, Buffer, RegExp][] = [
    ['overlapping offsets', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /tensor b: data_offsets overlap/],
    ['a gap between tensors', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /tensor b: data_offsets leave a gap/],
    ['a header over 100 MB', raw({}, 0, BigInt(MAX_HEADER_BYTES + 1)), /header of 100000001 bytes is over the 100000000-byte limit/],
    ['an unknown dtype', raw({ a: { dtype: 'F8_E4M3X', shape: [1], data_offsets: [0, 1] } }, 1), /tensor a: unknown dtype "F8_E4M3X"/],
    ['a size that disagrees with the shape', raw({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /tensor a: 8 bytes for shape \[3\] of F32 \(12 expected\)/],
    ['data past the last tensor', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /tensors cover 4 bytes of data but the file has 8/],
    ['metadata that is not a string', raw({ __metadata__: { n: 1 } }, 0), /__metadata__\.n is not a string/],
    ['a truncated file', Buffer.alloc(5), /too short/],
  ];
  for (const [what, buf, message] of cases) {
    it(`refuses ${what} with one line`, () => {
      expect(() => readSafetensors(buf)).toThrow(message);
      try {
        readSafetensors(buf);
      } catch (err) {
        expect((err as Error).message).not.toMatch(/\n/);
      }
    });
  }
});

describe('TransformerLens export', () => {
  it('writes model.safetensors under HookedTransformer names, config.json and load.py', () => {
    const out = path.join(tmp.dir, 'tl');
    expect(readdirSync(out).sort()).toEqual(['config.json', 'load.py', 'model.safetensors']);
    const { tensors } = readSafetensors(readFileSync(path.join(out, 'model.safetensors')));
    const shapes = Object.fromEntries(tensors.map((t) => [t.name, [t.dtype, t.shape]]));
    expect(shapes).toEqual({
      'embed.W_E': ['F32', [12, 16]],
      'pos_embed.W_pos': ['F32', [3, 16]],
      'blocks.0.attn.W_Q': ['F32', [2, 16, 8]],
      'blocks.0.attn.b_Q': ['F32', [2, 8]],
      'blocks.0.attn.W_K': ['F32', [2, 16, 8]],
      'blocks.0.attn.b_K': ['F32', [2, 8]],
      'blocks.0.attn.W_V': ['F32', [2, 16, 8]],
      'blocks.0.attn.b_V': ['F32', [2, 8]],
      'blocks.0.attn.W_O': ['F32', [2, 8, 16]],
      'blocks.0.attn.b_O': ['F32', [16]],
      'blocks.0.attn.mask': ['BOOL', [3, 3]],
      'blocks.0.attn.IGNORE': ['F32', []],
      'blocks.0.mlp.W_in': ['F32', [16, 32]],
      'blocks.0.mlp.b_in': ['F32', [32]],
      'blocks.0.mlp.W_out': ['F32', [32, 16]],
      'blocks.0.mlp.b_out': ['F32', [16]],
      'unembed.W_U': ['F32', [16, 11]],
      'unembed.b_U': ['F32', [11]],
    });
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config.hooked_transformer_config).toMatchObject({ n_layers: 1, d_model: 16, n_ctx: 3, d_head: 8, n_heads: 2, d_mlp: 32, act_fn: 'relu', normalization_type: null, d_vocab: 12, d_vocab_out: 11 });
    expect(config.split.train_pairs.length + config.split.test_pairs.length).toBe(121);
    expect(config.final_metrics.test_acc).toBe(transformer.final.test_acc);
  });

  it('TransformerLens formulas in torch give Grokscope’s logits (1e-4) and the run’s accuracies', async () => {
    const out = path.join(tmp.dir, 'tl');
    const checked = path.join(tmp.dir, 'torch.json');
    const py = spawnSync(PYTHON, [path.join(root, 'test', 'python', 'transformerlens_check.py'), out, checked], { encoding: 'utf8', timeout: 120_000 });
    expect(py.status, py.stderr).toBe(0);
    const torch = JSON.parse(readFileSync(checked, 'utf8')) as { logits: number[]; train_acc: number; test_acc: number };

    const run = await Library.with(library, (lib) => lib.getRun(transformer.id));
    const c = parseRunConfig({ ...run.config, backend: 'wasm' });
    const dataset = makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.splitSeed ?? c.seed });
    const ckptDir = path.join(library, 'checkpoints', run.id);
    const latest = readdirSync(ckptDir).sort().at(-1)!;
    const trainer = new Trainer(c, dataset, loadCheckpoint(path.join(ckptDir, latest)));
    const ours = await trainer.logits();
    trainer.dispose();
    expect(torch.logits.length).toBe(ours.length);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - torch.logits[i]));
    expect(worst).toBeLessThan(1e-4);
    expect(torch.train_acc).toBeCloseTo(transformer.final.train_acc, 6);
    expect(torch.test_acc).toBeCloseTo(transformer.final.test_acc, 6);
  }, 120_000);

  it('every checkpoint with --all-checkpoints; the MLP with our names; bad requests in one line, nothing written', () => {
    const all = path.join(tmp.dir, 'all');
    expect(runCli(['export', transformer.id, '--format', 'transformerlens', '--all-checkpoints', '-o', all, '--library', library]).code).toBe(0);
    const steps = readdirSync(path.join(library, 'checkpoints', transformer.id)).map((f) => Number(/(\d+)/.exec(f)![1]));
    expect(readdirSync(path.join(all, 'checkpoints')).sort()).toEqual(steps.map((s) => `step_${s}.safetensors`).sort());

    const m = path.join(tmp.dir, 'mlp');
    expect(runCli(['export', mlp.id, '--format', 'transformerlens', '-o', m, '--library', library]).code).toBe(0);
    const names = readSafetensors(readFileSync(path.join(m, 'model.safetensors'))).tensors.map((t) => t.name);
    expect(names).toEqual(['embed', 'W_in', 'b_in', 'W_out', 'b_out', 'W_U']);
    expect(JSON.parse(readFileSync(path.join(m, 'config.json'), 'utf8')).hooked_transformer_config).toBeNull();

    const bad = path.join(tmp.dir, 'bad');
    expectCleanError(runCli(['export', transformer.id, '--format', 'transformerlens', '--step', '7', '-o', bad, '--library', library]), /has no checkpoint at step 7 \(it has: /);
    expectCleanError(runCli(['export', transformer.id, '--format', 'tensorflow', '-o', bad, '--library', library]), /--format must be one of/);
    expectCleanError(runCli(['export', transformer.id, '--format', 'transformerlens', '-o', all, '--library', library]), /exists and is not empty/);
    expect(existsSync(bad)).toBe(false);
  }, 60_000);
});

describe('TransformerLens state dicts read back', () => {
  const model = { arch: 'transformer' as const, dModel: 16, nHeads: 4, dMlp: 32 };
  const params = initParams(model, 12, 11, 3);

  it('our parameters survive the round trip through HookedTransformer names bit for bit', () => {
    const back = fromTransformerLens(toTransformerLens(params, model, 11), 12, 11);
    expect(back.model).toEqual(model);
    for (const [name, t] of Object.entries(params)) expect(back.params[name], name).toEqual(t);
  });

  it('names what does not fit: a missing tensor, a shape for another task, an extra layer, a bias we have no place for', () => {
    const tensors = toTransformerLens(params, model, 11);
    expect(() => fromTransformerLens(tensors.filter((t) => t.name !== 'blocks.0.attn.W_K'), 12, 11)).toThrow(/^no tensor blocks\.0\.attn\.W_K/);
    expect(() => fromTransformerLens(tensors, 114, 113)).toThrow('tensor embed.W_E has shape [12,16], expected [114,16] (the task has 114 input tokens)');
    expect(() => fromTransformerLens([...tensors, f32Tensor('blocks.1.attn.W_Q', [1], new Float32Array(1))], 12, 11)).toThrow(/unexpected tensor blocks\.1\.attn\.W_Q/);
    const withBias = tensors.map((t) => (t.name === 'blocks.0.attn.b_O' ? f32Tensor(t.name, t.shape, new Float32Array(16).fill(0.5)) : t));
    expect(() => fromTransformerLens(withBias, 12, 11)).toThrow(/tensor blocks\.0\.attn\.b_O is not zero/);
    // b_K shifts every score of a query alike: softmax ignores it, so it is accepted.
    const withKeyBias = tensors.map((t) => (t.name === 'blocks.0.attn.b_K' ? f32Tensor(t.name, t.shape, new Float32Array(8).fill(0.5)) : t));
    expect(() => fromTransformerLens(withKeyBias, 12, 11)).not.toThrow();
  });
});

describe('grokscope measure', () => {
  it('measures an exported model as the run measured itself: H̃ per probe, accuracies on the same split', async () => {
    const run = await Library.with(library, (lib) => lib.getRun(transformer.id));
    const file = path.join(tmp.dir, 'tl', 'model.safetensors');
    const r = runCli(['measure', file, '--task', 'mod-add', '--p', '11', '--split-seed', String(run.config.seed), '--train-fraction', String(run.config.trainFraction), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = lastJson(r.stdout) as { model: unknown; record: { train_acc: number; test_acc: number; probes: Record<string, { entropy: number; eff_rank: number }> } };
    expect(m.model).toEqual({ arch: 'transformer', dModel: 16, nHeads: 2, dMlp: 32 });
    expect(m.record.train_acc).toBe(transformer.final.train_acc);
    expect(m.record.test_acc).toBe(transformer.final.test_acc);
    const last = await Library.with(library, async (lib) => (await lib.getMetrics(transformer.id)).at(-1)!);
    for (const probe of ['resid.final', 'mlp.hidden', 'attn.out', 'embed']) expect(m.record.probes[probe].entropy, probe).toBeCloseTo(last.entropy[probe], 6);
  }, 60_000);

  it('refuses bad files one by one: one line naming the problem, exit 1, nothing written', () => {
    const dir = path.join(tmp.dir, 'bad-files');
    mkdirSync(dir);
    const good = readFileSync(path.join(tmp.dir, 'tl', 'model.safetensors'));
    const cases: [string, Buffer, RegExp][] = [
      ['overlap.safetensors', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /overlap\.safetensors: tensor b: data_offsets overlap/],
      ['gap.safetensors', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /gap\.safetensors: tensor b: data_offsets leave a gap/],
      ['huge-header.safetensors', raw({}, 0, 200_000_000n), /huge-header\.safetensors: header of 200000000 bytes is over the 100000000-byte limit/],
      ['dtype.safetensors', raw({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1), /dtype\.safetensors: tensor a: unknown dtype "Q4"/],
      ['names.safetensors', writeSafetensors([f32Tensor('model.embed', [12, 16], new Float32Array(192))]), /names\.safetensors: no tensor embed\.W_E: not a 1-layer TransformerLens state dict/],
    ];
    for (const [name, bytes] of cases) writeFileSync(path.join(dir, name), bytes);
    for (const [name, , message] of cases) expectCleanError(runCli(['measure', path.join(dir, name), '--p', '11']), message);
    // A good file for another task: the shapes say so.
    writeFileSync(path.join(dir, 'good.safetensors'), good);
    expectCleanError(runCli(['measure', path.join(dir, 'good.safetensors'), '--task', 'mod-add', '--p', '113']), /tensor embed\.W_E has shape \[12,16\], expected \[114,16\]/);
    expectCleanError(runCli(['measure', path.join(dir, 'good.safetensors'), '--task', 'mod-add', '--p', '12']), /p must be a prime/);
    expect(readdirSync(dir).sort()).toEqual([...cases.map(([n]) => n), 'good.safetensors'].sort());
  }, 120_000);
});
