import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ProbeName } from '../../models/config.js';

/**
 * The forward computation of S runs of one shape at once (a stacked run group): every parameter
 * carries a leading run axis [S, …], products are batched over it, and token lookups index the
 * runs' tables flattened to [S·vocab, …] (each run's own split: its tokens offset by s·vocab).
 * The same algebra as forward.ts, run by run: only the `=` query and the `=` position's MLP
 * reach the logits. Each run's loss depends on its own slice alone, so the gradient of the sum
 * of the runs' losses is, slice by slice, each run's own gradient.
 */
export interface StackedBatch {
  /** Token a of every example of every run, offset into the flattened tables: a + s·vocab, [S·N] int32. */
  ia: tf.Tensor1D;
  ib: tf.Tensor1D;
  /** Examples per run. */
  n: number;
}

export interface StackedMix {
  /** Per run: Q [S, d, d] (any orthogonal matrix for runs without the mix). */
  q: tf.Tensor3D;
  /** α per run, [S, 1, 1] (0 where a run has no mix). */
  alpha: tf.Tensor3D;
  /** Which runs the mix applies to, [S, 1, 1] bool: the others keep their representation exactly. */
  on: tf.Tensor3D;
}

export interface StackedContext {
  model: ModelConfig;
  runs: number;
  vocab: number;
  eqToken: number;
  /** Number of group tokens (rows of the `embed` probe). */
  order: number;
  /** Block indicator [d, heads] scaled by 1/√(d/h) (forward.ts's makeHeadMatrices). */
  headSum?: tf.Tensor2D;
  headSpread?: tf.Tensor2D;
}

export interface StackedOut {
  /** [S, N, classes]. */
  logits: tf.Tensor3D;
  probes: Partial<Record<ProbeName, tf.Tensor3D>>;
}

type Params = Record<string, tf.Tensor>;

/** Rows of [S, vocab, w] tables at the flattened indices: [S, N, w]. */
function lookup(ctx: StackedContext, table: tf.Tensor, idx: tf.Tensor1D, n: number): tf.Tensor3D {
  const w = table.shape[table.shape.length - 1];
  return tf.reshape(tf.gather(tf.reshape(table, [ctx.runs * ctx.vocab, w]), idx), [ctx.runs, n, w]) as tf.Tensor3D;
}

/** Row i of every run's [S, rows, w] parameter: [S, 1, w]. */
function rowOf(t: tf.Tensor, i: number): tf.Tensor3D {
  return tf.slice(t as tf.Tensor3D, [0, i, 0], [-1, 1, -1]);
}

/** A [S, w] bias as [S, 1, w], to broadcast over examples. */
function bias(t: tf.Tensor): tf.Tensor3D {
  return tf.expandDims(t, 1) as tf.Tensor3D;
}

/** [S, N, w] · shared [w, k] → [S, N, k] (one 2-D product over all runs' rows). */
function byShared(x: tf.Tensor3D, m: tf.Tensor2D): tf.Tensor3D {
  const [s, n, w] = x.shape;
  return tf.reshape(tf.matMul(tf.reshape(x, [s * n, w]) as tf.Tensor2D, m), [s, n, m.shape[1]]) as tf.Tensor3D;
}

export function forwardStacked(ctx: StackedContext, P: Params, batch: StackedBatch, wantProbes: boolean, mix: StackedMix | null = null): StackedOut {
  const n = batch.n;
  let final: tf.Tensor3D;
  let hidden: tf.Tensor3D;
  let attnOut: tf.Tensor3D | null = null;
  if (ctx.model.arch === 'transformer') {
    if (!ctx.headSum || !ctx.headSpread) throw new Error('stacked transformer forward needs head matrices');
    const h = ctx.model.nHeads;
    const r0 = tf.add(lookup(ctx, P.embed, batch.ia, n), rowOf(P.pos, 0)) as tf.Tensor3D;
    const r1 = tf.add(lookup(ctx, P.embed, batch.ib, n), rowOf(P.pos, 1)) as tf.Tensor3D;
    const r2 = tf.add(rowOf(P.embed, ctx.eqToken), rowOf(P.pos, 2)) as tf.Tensor3D; // [S, 1, d]
    const WK = P.W_K as tf.Tensor3D;
    const WV = P.W_V as tf.Tensor3D;
    const q = tf.matMul(r2, P.W_Q as tf.Tensor3D); // [S, 1, d]
    const keys = [tf.matMul(r0, WK), tf.matMul(r1, WK), tf.matMul(r2, WK)];
    const values = [tf.matMul(r0, WV), tf.matMul(r1, WV), tf.matMul(r2, WV)];
    // Scores per head: [S, N, heads] (the `=` key's is [S, 1, heads], widened by adding zeros).
    const zeros = tf.zeros([ctx.runs, n, h]);
    const scores = keys.map((k) => {
      const s = byShared(tf.mul(k, q) as tf.Tensor3D, ctx.headSum!);
      return s.shape[1] === n ? s : tf.add(s, zeros);
    });
    const weights = tf.softmax(tf.stack(scores, 3)); // [S, N, heads, 3]
    let attn: tf.Tensor | null = null;
    for (let j = 0; j < 3; j++) {
      const wj = tf.reshape(tf.slice(weights, [0, 0, 0, j], [-1, -1, -1, 1]), [ctx.runs, n, h]) as tf.Tensor3D;
      const term = tf.mul(byShared(wj, ctx.headSpread), values[j]);
      attn = attn === null ? term : tf.add(attn, term);
    }
    const attnProduct = tf.matMul(attn as tf.Tensor3D, P.W_O as tf.Tensor3D) as tf.Tensor3D;
    attnOut = attnProduct;
    const mid = tf.add(r2, attnProduct) as tf.Tensor3D;
    hidden = tf.relu(tf.add(tf.matMul(mid, P.W_in as tf.Tensor3D), bias(P.b_in))) as tf.Tensor3D;
    final = tf.add(mid, tf.add(tf.matMul(hidden, P.W_out as tf.Tensor3D), bias(P.b_out))) as tf.Tensor3D;
  } else {
    const d = ctx.model.dModel;
    const WIn = P.W_in as tf.Tensor3D;
    // Per-token first layer (forward.ts): tables [S, vocab, d_mlp], looked up per example.
    const tableA = tf.matMul(P.embed as tf.Tensor3D, tf.slice(WIn, [0, 0, 0], [-1, d, -1]));
    const tableB = tf.matMul(P.embed as tf.Tensor3D, tf.slice(WIn, [0, d, 0], [-1, d, -1]));
    const pre = tf.add(tf.add(lookup(ctx, tableA, batch.ia, n), lookup(ctx, tableB, batch.ib, n)), bias(P.b_in));
    hidden = tf.relu(pre) as tf.Tensor3D;
    final = tf.add(tf.matMul(hidden, P.W_out as tf.Tensor3D), bias(P.b_out)) as tf.Tensor3D;
  }
  let rep = final;
  if (mix) {
    const mu = tf.mean(final, 1, true);
    const centred = tf.sub(final, mu);
    const mixed = tf.add(mu, tf.add(tf.mul(centred, tf.sub(1, mix.alpha)), tf.mul(tf.matMul(centred, mix.q), mix.alpha)));
    rep = tf.where(mix.on, mixed, final) as tf.Tensor3D;
  }
  const logits = tf.matMul(rep, P.W_U as tf.Tensor3D) as tf.Tensor3D;
  const probes: StackedOut['probes'] = {};
  if (wantProbes) {
    probes['resid.final'] = final;
    probes['mlp.hidden'] = hidden;
    if (attnOut) probes['attn.out'] = attnOut;
    probes.embed = tf.slice(P.embed as tf.Tensor3D, [0, 0, 0], [-1, ctx.order, -1]);
  }
  return { logits, probes };
}

/** Per run, the mean cross-entropy of [S, N, classes] logits against one-hot labels: [S]. */
export function crossEntropyPerRun(logits: tf.Tensor3D, labelsOneHot: tf.Tensor3D): tf.Tensor1D {
  return tf.neg(tf.mean(tf.sum(tf.mul(labelsOneHot, tf.logSoftmax(logits)), 2), 1)) as tf.Tensor1D;
}
