/**
 * The attention of the fused host Transformer step (host-transformer.ts): the `=` query against
 * the three positions a, b, `=`, per example and head, with keys and values read from per-token
 * tables (EK = E·W_K, EV = E·W_V) plus per-position rows (PK = pos·W_K, PV = pos·W_V).
 *
 * The query is the same for every example, so a token's score at position j depends on the token
 * alone: the scores are per-token tables ST_j[token, head] (vocab × d work instead of N × d), and
 * in the backward the score gradients are summed per token before they become key gradients. What
 * stays per example is the softmax over three positions and the weighted sum of values (and their
 * gradients): loops over [N, d], each in a function of its own so that V8 optimises it alone.
 */

/** Per-token rows of position j: T[t] = table[t] + posRows[j]  ([vocab, d]). */
function plusRow(table: Float32Array, posRows: Float32Array, j: number, d: number): Float32Array {
  const out = new Float32Array(table.length);
  for (let k = 0; k < table.length; k++) out[k] = table[k] + posRows[j * d + (k % d)];
  return out;
}

/** Scores of the query against a [vocab, d] key table, per token and head, scaled by 1/√(d/heads). */
function scoreTable(keys: Float32Array, q: Float32Array, d: number, heads: number): Float64Array {
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const vocab = keys.length / d;
  const out = new Float64Array(vocab * heads);
  for (let t = 0; t < vocab; t++) {
    for (let hd = 0; hd < heads; hd++) {
      let s = 0;
      for (let c = hd * dh; c < (hd + 1) * dh; c++) s += keys[t * d + c] * q[c];
      out[t * heads + hd] = s * scale;
    }
  }
  return out;
}

/**
 * Attention weights w [N, heads, 3] and the weighted values attn [N, d]. s2 (per head) and v2 are
 * the score and value of `=`, the same for every example.
 */
export function attentionForward(
  n: number,
  d: number,
  heads: number,
  a: Int32Array,
  b: Int32Array,
  EK: Float32Array,
  EV: Float32Array,
  PK: Float32Array,
  PV: Float32Array,
  q: Float32Array,
  s2: Float64Array,
  v2: Float32Array,
  w: Float32Array,
  attn: Float32Array,
): void {
  const dh = d / heads;
  const st0 = scoreTable(plusRow(EK, PK, 0, d), q, d, heads);
  const st1 = scoreTable(plusRow(EK, PK, 1, d), q, d, heads);
  const tv0 = plusRow(EV, PV, 0, d);
  const tv1 = plusRow(EV, PV, 1, d);
  for (let i = 0; i < n; i++) {
    const ta = a[i];
    const tb = b[i];
    const o = i * d;
    for (let hd = 0; hd < heads; hd++) {
      const s0 = st0[ta * heads + hd];
      const s1 = st1[tb * heads + hd];
      const max = Math.max(s0, s1, s2[hd]);
      const e0 = Math.exp(s0 - max);
      const e1 = Math.exp(s1 - max);
      const e2 = Math.exp(s2[hd] - max);
      const sum = e0 + e1 + e2;
      const ow = (i * heads + hd) * 3;
      w[ow] = e0 / sum;
      w[ow + 1] = e1 / sum;
      w[ow + 2] = e2 / sum;
    }
    combine(o, ta * d, tb * d, dh, heads, i, w, tv0, tv1, v2, attn);
  }
}

/** attn[i, c] = w0·tv0[a, c] + w1·tv1[b, c] + w2·v2[c], head by head. */
function combine(o: number, ra: number, rb: number, dh: number, heads: number, i: number, w: Float32Array, tv0: Float32Array, tv1: Float32Array, v2: Float32Array, attn: Float32Array): void {
  for (let hd = 0; hd < heads; hd++) {
    const ow = (i * heads + hd) * 3;
    const w0 = w[ow];
    const w1 = w[ow + 1];
    const w2 = w[ow + 2];
    for (let c = hd * dh; c < (hd + 1) * dh; c++) attn[o + c] = w0 * tv0[ra + c] + w1 * tv1[rb + c] + w2 * v2[c];
  }
}

/**
 * Backward of attentionForward: from dAttn, the gradients of the key and value tables (dEK, dEV:
 * token rows; dPK, dPV: position rows, `=`'s key and value in row 2) and of the query (dq). The
 * outputs are accumulated into (callers pass zeros).
 */
export function attentionBackward(
  n: number,
  d: number,
  heads: number,
  a: Int32Array,
  b: Int32Array,
  EK: Float32Array,
  EV: Float32Array,
  PK: Float32Array,
  PV: Float32Array,
  q: Float32Array,
  k2: Float32Array,
  v2: Float32Array,
  w: Float32Array,
  dAttn: Float32Array,
  dEK: Float32Array,
  dEV: Float32Array,
  dPK: Float32Array,
  dPV: Float32Array,
  dq: Float64Array,
): void {
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const vocab = EK.length / d;
  const tv0 = plusRow(EV, PV, 0, d);
  const tv1 = plusRow(EV, PV, 1, d);
  // Per example: gradients of the weights (dots of dAttn with each value), the values' gradients
  // scattered onto their tokens' rows, and the softmax backward into per-token score gradients.
  const dTv0 = new Float32Array(vocab * d);
  const dTv1 = new Float32Array(vocab * d);
  const dV2 = new Float64Array(d);
  const dSt0 = new Float64Array(vocab * heads);
  const dSt1 = new Float64Array(vocab * heads);
  const dS2 = new Float64Array(heads);
  const dw = new Float64Array(3 * heads);
  for (let i = 0; i < n; i++) {
    const ta = a[i];
    const tb = b[i];
    valueGradients(i * d, ta * d, tb * d, dh, heads, i, w, tv0, tv1, v2, dAttn, dTv0, dTv1, dV2, dw);
    for (let hd = 0; hd < heads; hd++) {
      const ow = (i * heads + hd) * 3;
      const w0 = w[ow];
      const w1 = w[ow + 1];
      const w2 = w[ow + 2];
      const dw0 = dw[3 * hd];
      const dw1 = dw[3 * hd + 1];
      const dw2 = dw[3 * hd + 2];
      const dot = w0 * dw0 + w1 * dw1 + w2 * dw2;
      dSt0[ta * heads + hd] += w0 * (dw0 - dot);
      dSt1[tb * heads + hd] += w1 * (dw1 - dot);
      dS2[hd] += w2 * (dw2 - dot);
    }
  }
  // Scores → keys and query, per token: s_j[t, hd] = scale · Σ_c (EK[t, c] + PK[j, c]) q[c].
  const tk0 = plusRow(EK, PK, 0, d);
  const tk1 = plusRow(EK, PK, 1, d);
  for (let t = 0; t < vocab; t++) {
    for (let c = 0; c < d; c++) {
      const hd = Math.floor(c / dh);
      const g0 = dSt0[t * heads + hd] * scale;
      const g1 = dSt1[t * heads + hd] * scale;
      const k = t * d + c;
      dEK[k] += g0 * q[c] + g1 * q[c];
      dPK[c] += g0 * q[c];
      dPK[d + c] += g1 * q[c];
      dq[c] += g0 * tk0[k] + g1 * tk1[k];
      // Values: token rows of both positions, and their position rows.
      dEV[k] += dTv0[k] + dTv1[k];
      dPV[c] += dTv0[k];
      dPV[d + c] += dTv1[k];
    }
  }
  for (let c = 0; c < d; c++) {
    const g2 = dS2[Math.floor(c / dh)] * scale;
    dPK[2 * d + c] += g2 * q[c];
    dq[c] += g2 * k2[c];
    dPV[2 * d + c] += dV2[c];
  }
}

/**
 * One example's value gradients: dw[3·hd + j] = Σ_{c ∈ hd} dAttn[c]·value_j[c]; dTv0[a] += w0·dAttn,
 * dTv1[b] += w1·dAttn, dV2 += w2·dAttn.
 */
function valueGradients(
  o: number,
  ra: number,
  rb: number,
  dh: number,
  heads: number,
  i: number,
  w: Float32Array,
  tv0: Float32Array,
  tv1: Float32Array,
  v2: Float32Array,
  dAttn: Float32Array,
  dTv0: Float32Array,
  dTv1: Float32Array,
  dV2: Float64Array,
  dw: Float64Array,
): void {
  for (let hd = 0; hd < heads; hd++) {
    const ow = (i * heads + hd) * 3;
    const w0 = w[ow];
    const w1 = w[ow + 1];
    const w2 = w[ow + 2];
    let dw0 = 0;
    let dw1 = 0;
    let dw2 = 0;
    for (let c = hd * dh; c < (hd + 1) * dh; c++) {
      const da = dAttn[o + c];
      dw0 += da * tv0[ra + c];
      dw1 += da * tv1[rb + c];
      dw2 += da * v2[c];
      dTv0[ra + c] += w0 * da;
      dTv1[rb + c] += w1 * da;
      dV2[c] += w2 * da;
    }
    dw[3 * hd] = dw0;
    dw[3 * hd + 1] = dw1;
    dw[3 * hd + 2] = dw2;
  }
}
