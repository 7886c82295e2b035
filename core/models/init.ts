import { Rng } from '../rng.js';
import { paramShapes, type ModelConfig } from './config.js';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}
export type HostParams = Record<string, HostTensor>;

/**
 * Initialisation schemes (the run config's `init`, absent = 'normal-fan-in'; docs/methods.md,
 * "Models"):
 * - `normal-fan-in` (ours since the start, after Nanda et al.): embeddings and positions
 *   N(0, 1/d); a weight [in, out] N(0, 1/in); biases 0.
 * - `torch-linear`: what a PyTorch re-implementation built from default modules starts from —
 *   every matrix applied as x·W (W_Q, W_K, W_V, W_O, W_in, W_out, W_U) and its bias as
 *   nn.Linear(in, out) draws them, U(−1/√in, 1/√in) (kaiming_uniform with a = √5, and the bias
 *   with the same bound; W_U has no bias), and the token and position tables as nn.Embedding does,
 *   N(0, 1).
 */
export const INIT_SCHEMES = ['normal-fan-in', 'torch-linear'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];
/** What a config without `init` means (every run before the field existed). */
export const DEFAULT_INIT: InitScheme = 'normal-fan-in';

/** The tables read by row lookup (nn.Embedding in a PyTorch model); every other matrix is applied as x·W. */
const TABLES = new Set(['embed', 'pos']);
/** Each bias's weight: the bias of nn.Linear(in, out) has that layer's bound 1/√in. */
const BIAS_OF: Record<string, string> = { b_in: 'W_in', b_out: 'W_out' };

/**
 * Seeded initialisation on the host (plain JS), so the same seed gives bit-identical initial
 * weights on every backend and engine (the single-run trainer, the stacked tfjs group and the
 * WGSL group all start from these arrays). One generator, Rng.derive(seed, 'init'), draws the
 * parameters in paramShapes' order. `scale` multiplies every initial parameter (the run config's
 * initScale; 1 draws exactly the unscaled values). `normal-fan-in` draws nothing for its zero
 * biases, so its arrays are those of every run made before `init` existed, bit for bit.
 */
export function initParams(model: ModelConfig, vocab: number, classes: number, seed: number, scale = 1, scheme: InitScheme = DEFAULT_INIT): HostParams {
  if (!(INIT_SCHEMES as readonly string[]).includes(scheme)) throw new Error(`unknown init scheme '${scheme}' (expected ${INIT_SCHEMES.join(' or ')})`);
  const rng = Rng.derive(seed, 'init');
  const shapes = paramShapes(model, vocab, classes);
  const out: HostParams = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (scheme === 'normal-fan-in') {
      if (shape.length === 2) {
        const std = TABLES.has(name) ? 1 / Math.sqrt(model.dModel) : 1 / Math.sqrt(shape[0]);
        const s = std * scale;
        for (let i = 0; i < size; i++) data[i] = rng.normal() * s;
      }
    } else if (TABLES.has(name)) {
      for (let i = 0; i < size; i++) data[i] = rng.normal() * scale;
    } else {
      const fanIn = shape.length === 2 ? shape[0] : shapes[BIAS_OF[name]][0];
      const bound = scale / Math.sqrt(fanIn);
      for (let i = 0; i < size; i++) data[i] = (2 * rng.uniform() - 1) * bound;
    }
    out[name] = { shape, data };
  }
  return out;
}

/** A run's initial parameters from the config fields that decide them (seed, initScale, init): what every engine calls. */
export function initParamsFor(config: { seed: number; initScale?: number; init?: InitScheme }, model: ModelConfig, vocab: number, classes: number): HostParams {
  return initParams(model, vocab, classes, config.seed, config.initScale ?? 1, config.init ?? DEFAULT_INIT);
}
