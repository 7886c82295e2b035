import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ProbeName } from '../../models/config.js';

/**
 * The forward computation of both models on TensorFlow.js.
 *
 * Exact algebra we rely on (proved against test/fixtures/golden in test/golden.test.ts): in a
 * 1-layer, 3-token model only the `=` position feeds the logits, and under causal attention the
 * `=` query (the last position) attends to all three positions, so the mask never bites and the
 * MLP at positions a and b never reaches the output. We therefore compute attention for the `=`
 * query alone and the MLP at `=` alone: the same logits, loss and gradients as the full
 * computation, at a third of the cost. Tokens enter by row lookup (gather); on wasm, whose
 * Gather is slow and has no gradient kernel, core/train/tfjs/wasm-gather.ts provides both.
 */
export interface Batch {
  /** One-hot of token a, [N, vocab]. */
  xa: tf.Tensor2D;
  /** One-hot of token b, [N, vocab]. */
  xb: tf.Tensor2D;
  /** Token a and b as indices, [N] int32, for row lookups (tf.gather). */
  ia: tf.Tensor1D;
  ib: tf.Tensor1D;
}

export interface ForwardOut {
  logits: tf.Tensor2D;
  probes: Partial<Record<ProbeName, tf.Tensor2D>>;
}

export type ParamTensors = Record<string, tf.Tensor>;

export interface ForwardContext {
  model: ModelConfig;
  eqToken: number;
  /** Number of group tokens (rows of the `embed` probe). */
  order: number;
  /** Block indicator [d, heads] scaled by 1/√(d/h): sums a head's channels into its score. */
  headSum?: tf.Tensor2D;
  /** Block indicator [heads, d]: spreads a head's weight back over its channels. */
  headSpread?: tf.Tensor2D;
  /**
   * How tokens' rows are read: `gather` (wasm, with our kernels; tensorflow) or `onehot` products
   * (tfjs's pure-JS cpu backend, whose gather gradient is ~3× slower than the product there).
   * The same numbers either way.
   */
  rowLookup?: 'gather' | 'onehot';
  /** Applied to `resid.final` before the unembedding (training-time interventions). */
  repTransform?: (rep: tf.Tensor2D) => tf.Tensor2D;
}

/** Constant helper matrices for multi-head attention; caller owns (and disposes) them. */
export function makeHeadMatrices(model: ModelConfig): { headSum: tf.Tensor2D; headSpread: tf.Tensor2D } {
  const d = model.dModel;
  const h = model.nHeads;
  const dh = d / h;
  const sum = new Float32Array(d * h);
  const spread = new Float32Array(h * d);
  for (let c = 0; c < d; c++) {
    const head = Math.floor(c / dh);
    sum[c * h + head] = 1 / Math.sqrt(dh);
    spread[head * d + c] = 1;
  }
  return { headSum: tf.tensor2d(sum, [d, h]), headSpread: tf.tensor2d(spread, [h, d]) };
}

/** table[token] for each example: a row lookup or the equivalent one-hot product. */
function rows(ctx: ForwardContext, table: tf.Tensor2D, idx: tf.Tensor1D, onehot: tf.Tensor2D): tf.Tensor2D {
  return (ctx.rowLookup === 'onehot' ? tf.matMul(onehot, table) : tf.gather(table, idx)) as tf.Tensor2D;
}

function row(t: tf.Tensor, i: number): tf.Tensor2D {
  return tf.slice(t as tf.Tensor2D, [i, 0], [1, -1]);
}

export function forward(ctx: ForwardContext, P: ParamTensors, batch: Batch, wantProbes: boolean): ForwardOut {
  return ctx.model.arch === 'transformer'
    ? forwardTransformer(ctx, P, batch, wantProbes)
    : forwardMlp(ctx, P, batch, wantProbes);
}

function forwardTransformer(ctx: ForwardContext, P: ParamTensors, batch: Batch, wantProbes: boolean): ForwardOut {
  if (!ctx.headSum || !ctx.headSpread) throw new Error('transformer forward needs head matrices');
  const E = P.embed as tf.Tensor2D;
  const pos = P.pos as tf.Tensor2D;
  const WK = P.W_K as tf.Tensor2D;
  const WV = P.W_V as tf.Tensor2D;
  // Residual stream before the block at the three positions; the `=` row is the same for all inputs.
  const r0 = tf.add(rows(ctx, E, batch.ia, batch.xa), row(pos, 0)) as tf.Tensor2D;
  const r1 = tf.add(rows(ctx, E, batch.ib, batch.xb), row(pos, 1)) as tf.Tensor2D;
  const r2 = tf.add(row(E, ctx.eqToken), row(pos, 2)) as tf.Tensor2D;
  const q = tf.matMul(r2, P.W_Q as tf.Tensor2D);
  const keys = [tf.matMul(r0, WK), tf.matMul(r1, WK), tf.matMul(r2, WK)];
  const values = [tf.matMul(r0, WV), tf.matMul(r1, WV), tf.matMul(r2, WV)];
  // Scores of the `=` query against each position, per head: [N, heads] each.
  const scores = keys.map((k) => tf.matMul(tf.mul(k, q) as tf.Tensor2D, ctx.headSum!));
  const n = batch.xa.shape[0];
  const h = ctx.model.nHeads;
  // The `=` key is the same for every input, so its score is [1, heads]; widen it by adding
  // zeros: tfjs's broadcastTo gradient loops over rows (one Slice + Add per example).
  const zeros = tf.zeros([n, h]);
  const stacked = tf.stack(scores.map((s) => (s.shape[0] === n ? s : tf.add(s, zeros))), 2); // [N, heads, 3]
  const weights = tf.softmax(stacked); // over the 3 positions
  let attn: tf.Tensor | null = null;
  for (let j = 0; j < 3; j++) {
    const wj = tf.reshape(tf.slice(weights, [0, 0, j], [n, h, 1]), [n, h]) as tf.Tensor2D;
    const term = tf.mul(tf.matMul(wj, ctx.headSpread), values[j]);
    attn = attn === null ? term : tf.add(attn, term);
  }
  const attnOut = tf.matMul(attn as tf.Tensor2D, P.W_O as tf.Tensor2D) as tf.Tensor2D;
  const mid = tf.add(r2, attnOut) as tf.Tensor2D;
  const hidden = tf.relu(tf.add(tf.matMul(mid, P.W_in as tf.Tensor2D), P.b_in)) as tf.Tensor2D;
  const final = tf.add(mid, tf.add(tf.matMul(hidden, P.W_out as tf.Tensor2D), P.b_out)) as tf.Tensor2D;
  const logits = tf.matMul(ctx.repTransform ? ctx.repTransform(final) : final, P.W_U as tf.Tensor2D) as tf.Tensor2D;
  const probes: ForwardOut['probes'] = {};
  if (wantProbes) {
    probes['resid.final'] = final;
    probes['mlp.hidden'] = hidden;
    probes['attn.out'] = attnOut;
    probes.embed = tf.slice(E, [0, 0], [ctx.order, -1]) as tf.Tensor2D;
  }
  return { logits, probes };
}

function forwardMlp(ctx: ForwardContext, P: ParamTensors, batch: Batch, wantProbes: boolean): ForwardOut {
  const E = P.embed as tf.Tensor2D;
  const d = ctx.model.dModel;
  const WIn = P.W_in as tf.Tensor2D;
  // concat(embed[a], embed[b]) · W_in = (E · W_in[:d])[a] + (E · W_in[d:])[b]: the first layer
  // depends on each token only, so it is computed once per token (a vocab × d_mlp table) and
  // looked up per example — the same algebra, a fraction of the products.
  const tableA = tf.matMul(E, tf.slice(WIn, [0, 0], [d, -1])) as tf.Tensor2D;
  const tableB = tf.matMul(E, tf.slice(WIn, [d, 0], [d, -1])) as tf.Tensor2D;
  // (On wasm, gather and its gradient are our own kernels: core/train/tfjs/wasm-gather.ts.)
  const pre: tf.Tensor2D = tf.add(tf.add(rows(ctx, tableA, batch.ia, batch.xa), rows(ctx, tableB, batch.ib, batch.xb)), P.b_in);
  const hidden = tf.relu(pre) as tf.Tensor2D;
  const rep = tf.add(tf.matMul(hidden, P.W_out as tf.Tensor2D), P.b_out) as tf.Tensor2D;
  const logits = tf.matMul(ctx.repTransform ? ctx.repTransform(rep) : rep, P.W_U as tf.Tensor2D) as tf.Tensor2D;
  const probes: ForwardOut['probes'] = {};
  if (wantProbes) {
    probes['resid.final'] = rep;
    probes['mlp.hidden'] = hidden;
    probes.embed = tf.slice(E, [0, 0], [ctx.order, -1]) as tf.Tensor2D;
  }
  return { logits, probes };
}

/** Mean cross-entropy of logits against one-hot labels. */
export function crossEntropy(logits: tf.Tensor2D, labelsOneHot: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(labelsOneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}
