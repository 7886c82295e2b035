import type { HostParams } from '../models/init.js';
import { paramShapes, type ModelConfig } from '../models/config.js';
import { asFloat32, f32Tensor, SafetensorsError, type SafeTensor } from './safetensors.js';

/**
 * Our 1-layer Transformer under TransformerLens' names. Matched against TransformerLens' source
 * (TransformerLensOrg/TransformerLens on GitHub: components/abstract_attention.py at commit
 * 017c577a, attention.py at 07e8f386, mlps/mlp.py at 120448d6, embed.py, pos_embed.py,
 * unembed.py): HookedTransformer multiplies on the right, attention weights are per head —
 * W_Q, W_K, W_V [n_heads, d_model, d_head], W_O [n_heads, d_head, d_model] — with biases b_Q,
 * b_K, b_V [n_heads, d_head], b_O [d_model]; scores are divided by √d_head; the block buffers
 * are `mask` (bool, lower-triangular [n_ctx, n_ctx]) and `IGNORE` (a scalar, −∞ at that commit).
 *
 * Ours: W_Q … W_O are [d, d] with head h on channels h·d_head … (h+1)·d_head − 1 (forward.ts),
 * scores also divided by √d_head, no attention or unembedding biases (written as zeros), no
 * LayerNorm. So W_Q[h][i][j] = ours[i][h·d_head + j] and W_O[h][j][k] = ours[h·d_head + j][k].
 */
export const TL_NAMES = {
  embed: 'embed.W_E',
  pos: 'pos_embed.W_pos',
  W_in: 'blocks.0.mlp.W_in',
  b_in: 'blocks.0.mlp.b_in',
  W_out: 'blocks.0.mlp.W_out',
  b_out: 'blocks.0.mlp.b_out',
  W_U: 'unembed.W_U',
} as const;
const ATTN = 'blocks.0.attn.';

/** [d, h·dh] (head-major columns) → [h, d, dh]. */
function splitColumnsByHead(w: Float32Array, d: number, h: number): Float32Array {
  const dh = d / h;
  const out = new Float32Array(h * d * dh);
  for (let head = 0; head < h; head++) for (let i = 0; i < d; i++) for (let j = 0; j < dh; j++) out[(head * d + i) * dh + j] = w[i * d + head * dh + j];
  return out;
}

/** [h, d, dh] → [d, h·dh]. */
function joinColumnsByHead(w: Float32Array, d: number, h: number): Float32Array {
  const dh = d / h;
  const out = new Float32Array(d * d);
  for (let head = 0; head < h; head++) for (let i = 0; i < d; i++) for (let j = 0; j < dh; j++) out[i * d + head * dh + j] = w[(head * d + i) * dh + j];
  return out;
}

/** HookedTransformer's state dict for our Transformer's parameters, with its buffers. */
export function toTransformerLens(params: HostParams, model: ModelConfig, classes: number): SafeTensor[] {
  const d = model.dModel;
  const h = model.nHeads;
  const dh = d / h;
  const nCtx = params.pos.shape[0];
  const t: SafeTensor[] = [f32Tensor(TL_NAMES.embed, params.embed.shape, params.embed.data), f32Tensor(TL_NAMES.pos, params.pos.shape, params.pos.data)];
  for (const x of ['Q', 'K', 'V']) {
    t.push(f32Tensor(`${ATTN}W_${x}`, [h, d, dh], splitColumnsByHead(params[`W_${x}`].data, d, h)));
    t.push(f32Tensor(`${ATTN}b_${x}`, [h, dh], new Float32Array(h * dh)));
  }
  // W_O's rows are already head-major: [h·dh, d] is [h, dh, d] in the same order.
  t.push(f32Tensor(`${ATTN}W_O`, [h, dh, d], params.W_O.data), f32Tensor(`${ATTN}b_O`, [d], new Float32Array(d)));
  const mask = new Uint8Array(nCtx * nCtx);
  for (let q = 0; q < nCtx; q++) for (let k = 0; k <= q; k++) mask[q * nCtx + k] = 1;
  t.push({ name: `${ATTN}mask`, dtype: 'BOOL', shape: [nCtx, nCtx], bytes: mask });
  t.push(f32Tensor(`${ATTN}IGNORE`, [], Float32Array.of(-Infinity)));
  for (const k of ['W_in', 'b_in', 'W_out', 'b_out'] as const) t.push(f32Tensor(TL_NAMES[k], params[k].shape, params[k].data));
  t.push(f32Tensor(TL_NAMES.W_U, params.W_U.shape, params.W_U.data), f32Tensor('unembed.b_U', [classes], new Float32Array(classes)));
  return t;
}

/** HookedTransformerConfig's fields for our Transformer on a task with `vocab` input tokens. */
export function hookedTransformerConfig(model: ModelConfig, vocab: number, classes: number): Record<string, unknown> {
  return {
    n_layers: 1,
    d_model: model.dModel,
    n_ctx: 3,
    d_head: model.dModel / model.nHeads,
    n_heads: model.nHeads,
    d_mlp: model.dMlp,
    act_fn: 'relu',
    normalization_type: null,
    d_vocab: vocab,
    d_vocab_out: classes,
    attn_only: false,
    positional_embedding_type: 'standard',
  };
}

/**
 * Our parameters from a TransformerLens state dict of a 1-layer, LayerNorm-free, ReLU
 * Transformer on a task with `vocab` input tokens and `classes` outputs; the model's sizes come
 * from the shapes. Refused, one line each: missing or extra tensors, shapes that disagree with the
 * task or each other, and non-zero biases our model has no place for. b_K is the exception: it
 * adds q·b_K to every score of a query alike, which softmax ignores, so it is dropped exactly.
 */
export function fromTransformerLens(tensors: SafeTensor[], vocab: number, classes: number): { model: ModelConfig; params: HostParams } {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const need = (name: string): SafeTensor => {
    const t = byName.get(name);
    if (!t) throw new SafetensorsError(`no tensor ${name}: not a 1-layer TransformerLens state dict (tensors: ${[...byName.keys()].slice(0, 6).join(', ')}${byName.size > 6 ? ', …' : ''})`);
    return t;
  };
  const shapeIs = (t: SafeTensor, want: number[], why: string): void => {
    if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i])) throw new SafetensorsError(`tensor ${t.name} has shape [${t.shape}], expected [${want}] (${why})`);
  };
  const WE = need(TL_NAMES.embed);
  if (WE.shape.length !== 2) throw new SafetensorsError(`tensor ${WE.name} has shape [${WE.shape}], expected [d_vocab, d_model]`);
  const d = WE.shape[1];
  shapeIs(WE, [vocab, d], `the task has ${vocab} input tokens`);
  const WQ = need(`${ATTN}W_Q`);
  if (WQ.shape.length !== 3 || WQ.shape[1] !== d || WQ.shape[0] * WQ.shape[2] !== d) throw new SafetensorsError(`tensor ${WQ.name} has shape [${WQ.shape}], expected [n_heads, ${d}, d_head] with n_heads · d_head = ${d}`);
  const h = WQ.shape[0];
  const dh = WQ.shape[2];
  const WIn = need(TL_NAMES.W_in);
  if (WIn.shape.length !== 2) throw new SafetensorsError(`tensor ${WIn.name} has shape [${WIn.shape}], expected [${d}, d_mlp]`);
  const dMlp = WIn.shape[1];
  const model: ModelConfig = { arch: 'transformer', dModel: d, nHeads: h, dMlp };
  const expected: Record<string, number[]> = {
    [TL_NAMES.embed]: [vocab, d],
    [TL_NAMES.pos]: [3, d],
    [`${ATTN}W_Q`]: [h, d, dh],
    [`${ATTN}W_K`]: [h, d, dh],
    [`${ATTN}W_V`]: [h, d, dh],
    [`${ATTN}W_O`]: [h, dh, d],
    [TL_NAMES.W_in]: [d, dMlp],
    [TL_NAMES.b_in]: [dMlp],
    [TL_NAMES.W_out]: [dMlp, d],
    [TL_NAMES.b_out]: [d],
    [TL_NAMES.W_U]: [d, classes],
  };
  const optionalZero: Record<string, number[]> = { [`${ATTN}b_Q`]: [h, dh], [`${ATTN}b_K`]: [h, dh], [`${ATTN}b_V`]: [h, dh], [`${ATTN}b_O`]: [d], 'unembed.b_U': [classes] };
  const buffers = new Set([`${ATTN}mask`, `${ATTN}IGNORE`]);
  for (const name of byName.keys()) {
    if (!(name in expected) && !(name in optionalZero) && !buffers.has(name)) throw new SafetensorsError(`unexpected tensor ${name}: not part of a 1-layer, LayerNorm-free TransformerLens model`);
  }
  for (const [name, shape] of Object.entries(expected)) shapeIs(need(name), shape, name === TL_NAMES.W_U ? `the task has ${classes} classes` : 'from the other tensors');
  for (const [name, shape] of Object.entries(optionalZero)) {
    const t = byName.get(name);
    if (!t) continue;
    shapeIs(t, shape, 'from the other tensors');
    if (name === `${ATTN}b_K`) continue;
    if (asFloat32(t).some((x) => x !== 0)) throw new SafetensorsError(`tensor ${name} is not zero: Grokscope's Transformer has no such bias (only b_in, b_out)`);
  }
  const f = (name: string): Float32Array => asFloat32(need(name));
  const shapes = paramShapes(model, vocab, classes);
  const data: Record<string, Float32Array> = {
    embed: f(TL_NAMES.embed),
    pos: f(TL_NAMES.pos),
    W_Q: joinColumnsByHead(f(`${ATTN}W_Q`), d, h),
    W_K: joinColumnsByHead(f(`${ATTN}W_K`), d, h),
    W_V: joinColumnsByHead(f(`${ATTN}W_V`), d, h),
    W_O: f(`${ATTN}W_O`),
    W_in: f(TL_NAMES.W_in),
    b_in: f(TL_NAMES.b_in),
    W_out: f(TL_NAMES.W_out),
    b_out: f(TL_NAMES.b_out),
    W_U: f(TL_NAMES.W_U),
  };
  const params: HostParams = {};
  for (const [name, shape] of Object.entries(shapes)) params[name] = { shape, data: data[name] };
  return { model, params };
}
