/**
 * Fourier alignment of a cyclic task's embedding (docs/methods.md, "Fourier alignment"; claim C8). Our definition: centre the
 * p × d token embedding over tokens, take the DFT over Z/pZ per channel, and sum the power of each
 * non-constant frequency f = 1..⌊p/2⌋ (f and p − f together, i.e. its cosine and sine parts; at an
 * even p, f = p/2 is its own mirror and its power is halved, so equal energy means equal power).
 * `topk_share` is the share of that power in the k strongest frequencies; `gini` is the Gini
 * coefficient of the per-frequency powers (0 = spread evenly, → 1 = concentrated on one).
 */
export interface FourierAlignment {
  topk_share: number;
  gini: number;
  /** Power per frequency f = 1..⌊p/2⌋ (index f − 1). */
  power: number[];
}

export function frequencyPower(embedding: ArrayLike<number>, p: number, d: number): number[] {
  const mean = new Float64Array(d);
  for (let a = 0; a < p; a++) for (let c = 0; c < d; c++) mean[c] += embedding[a * d + c] / p;
  const nFreq = Math.floor(p / 2);
  const power: number[] = [];
  // The frequency's cosines and sines over the p tokens, once per frequency rather than once per
  // channel (the same values: the angle does not depend on the channel).
  const cos = new Float64Array(p);
  const sin = new Float64Array(p);
  for (let f = 1; f <= nFreq; f++) {
    for (let a = 0; a < p; a++) {
      const angle = (2 * Math.PI * f * a) / p;
      cos[a] = Math.cos(angle);
      sin[a] = Math.sin(angle);
    }
    let total = 0;
    for (let c = 0; c < d; c++) {
      let re = 0;
      let im = 0;
      for (let a = 0; a < p; a++) {
        const x = embedding[a * d + c] - mean[c];
        re += x * cos[a];
        im += x * sin[a];
      }
      total += re * re + im * im;
    }
    // At an even p the frequency p/2 is its own mirror (cosine only): its |X|² counts its energy
    // twice over against the others' (whose mirror p − f is left out), so it is halved.
    power.push(2 * f === p ? total / 2 : total);
  }
  return power;
}

export function gini(values: number[]): number {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  if (n === 0 || sum <= 0) return 0;
  // G = Σ (2i − n − 1) x_(i) / (n Σx), i = 1..n, the closed form of the mean absolute difference.
  let acc = 0;
  for (let i = 0; i < n; i++) acc += (2 * (i + 1) - n - 1) * sorted[i];
  return acc / (n * sum);
}

export function fourierAlignment(embedding: ArrayLike<number>, p: number, d: number, k = 5): FourierAlignment {
  return alignmentOfPower(frequencyPower(embedding, p, d), k);
}

/** fourierAlignment from the power per frequency (an engine that found it where the embedding lives). */
export function alignmentOfPower(power: number[], k = 5): FourierAlignment {
  const total = power.reduce((a, b) => a + b, 0);
  const top = [...power].sort((a, b) => b - a).slice(0, k).reduce((a, b) => a + b, 0);
  return { topk_share: total > 0 ? top / total : 0, gini: gini(power), power };
}
