import { Rng } from '../rng.js';
import { paramShapes, type ModelConfig } from './config.js';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}
export type HostParams = Record<string, HostTensor>;

/**
 * Seeded initialisation on the host (plain JS), so the same seed gives bit-identical initial
 * weights on every backend. Scheme (our choice, after Nanda et al.): embeddings and positions
 * N(0, 1/d); a weight [in, out] N(0, 1/in); biases 0. `scale` multiplies every weight (the run
 * config's initScale; 1 draws exactly the unscaled weights).
 */
export function initParams(model: ModelConfig, vocab: number, classes: number, seed: number, scale = 1): HostParams {
  const rng = Rng.derive(seed, 'init');
  const out: HostParams = {};
  for (const [name, shape] of Object.entries(paramShapes(model, vocab, classes))) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (shape.length === 2) {
      const std = name === 'embed' || name === 'pos' ? 1 / Math.sqrt(model.dModel) : 1 / Math.sqrt(shape[0]);
      const s = std * scale;
      for (let i = 0; i < size; i++) data[i] = rng.normal() * s;
    }
    out[name] = { shape, data };
  }
  return out;
}
