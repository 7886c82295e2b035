/**
 * The attention of the fused host Transformer step (host-transformer.ts): the `=` query against
 * the three positions a, b, `=`, per example and head, with keys and values read from per-token
 * tables (EK = E·W_K, EV = E·W_V) plus per-position rows (PK = pos·W_K, PV = pos·W_V). Loops
 * over [N, d]: cheaper than any product here, and each in a function of its own so that V8
 * optimises it alone.
 */
/**
 * Attention of the `=` query over the three positions, per example and head: weights w [N, heads, 3]
 * and the weighted values attn [N, d]. A function of its own so that V8 optimises it alone.
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
  const scale = 1 / Math.sqrt(dh);
  for (let i = 0; i < n; i++) {
    const ra = a[i] * d;
    const rb = b[i] * d;
    const o = i * d;
    for (let hd = 0; hd < heads; hd++) {
      let s0 = 0;
      let s1 = 0;
      for (let j = hd * dh; j < (hd + 1) * dh; j++) {
        s0 += (EK[ra + j] + PK[j]) * q[j];
        s1 += (EK[rb + j] + PK[d + j]) * q[j];
      }
      s0 *= scale;
      s1 *= scale;
      const max = Math.max(s0, s1, s2[hd]);
      const e0 = Math.exp(s0 - max);
      const e1 = Math.exp(s1 - max);
      const e2 = Math.exp(s2[hd] - max);
      const sum = e0 + e1 + e2;
      const w0 = e0 / sum;
      const w1 = e1 / sum;
      const w2 = e2 / sum;
      const ow = (i * heads + hd) * 3;
      w[ow] = w0;
      w[ow + 1] = w1;
      w[ow + 2] = w2;
      for (let j = hd * dh; j < (hd + 1) * dh; j++) attn[o + j] = w0 * (EV[ra + j] + PV[j]) + w1 * (EV[rb + j] + PV[d + j]) + w2 * v2[j];
    }
  }
}

/**
 * Backward of attentionForward: gradients onto the key and value tables (dEK, dEV: rows of the
 * tokens; dPK, dPV: rows of the positions) and the query (dq), from dAttn.
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
  for (let i = 0; i < n; i++) {
    const ra = a[i] * d;
    const rb = b[i] * d;
    const o = i * d;
    for (let hd = 0; hd < heads; hd++) {
      const ow = (i * heads + hd) * 3;
      const w0 = w[ow];
      const w1 = w[ow + 1];
      const w2 = w[ow + 2];
      let dw0 = 0;
      let dw1 = 0;
      let dw2 = 0;
      for (let j = hd * dh; j < (hd + 1) * dh; j++) {
        const da = dAttn[o + j];
        dw0 += da * (EV[ra + j] + PV[j]);
        dw1 += da * (EV[rb + j] + PV[d + j]);
        dw2 += da * v2[j];
        dEV[ra + j] += w0 * da;
        dEV[rb + j] += w1 * da;
        dPV[j] += w0 * da;
        dPV[d + j] += w1 * da;
        dPV[2 * d + j] += w2 * da;
      }
      const dot = w0 * dw0 + w1 * dw1 + w2 * dw2;
      const ds0 = w0 * (dw0 - dot) * scale;
      const ds1 = w1 * (dw1 - dot) * scale;
      const ds2 = w2 * (dw2 - dot) * scale;
      for (let j = hd * dh; j < (hd + 1) * dh; j++) {
        const qj = q[j];
        dEK[ra + j] += ds0 * qj;
        dEK[rb + j] += ds1 * qj;
        dPK[j] += ds0 * qj;
        dPK[d + j] += ds1 * qj;
        dPK[2 * d + j] += ds2 * qj;
        dq[j] += ds0 * (EK[ra + j] + PK[j]) + ds1 * (EK[rb + j] + PK[d + j]) + ds2 * k2[j];
      }
    }
  }
}
