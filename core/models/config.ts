/** Architecture hyper-parameters shared by both models. */
export const ARCHS = ['transformer', 'mlp'] as const;
export type Arch = (typeof ARCHS)[number];

export const PROBES = ['resid.final', 'mlp.hidden', 'attn.out', 'embed'] as const;
export type ProbeName = (typeof PROBES)[number];

export interface ModelConfig {
  arch: Arch;
  dModel: number;
  nHeads: number;
  dMlp: number;
}

/** Probes that exist for an architecture (the MLP has no attention). */
export function probesFor(arch: Arch): ProbeName[] {
  return arch === 'transformer' ? [...PROBES] : PROBES.filter((p) => p !== 'attn.out');
}

/** Width d of a probe's representation, the denominator ln d of the normalised entropy. */
export function probeWidth(model: ModelConfig, probe: ProbeName): number {
  return probe === 'mlp.hidden' ? model.dMlp : model.dModel;
}

/** Parameter names and shapes, in the golden files' `x @ W` convention ([in, out]). */
export function paramShapes(model: ModelConfig, vocab: number, classes: number): Record<string, number[]> {
  const d = model.dModel;
  if (model.arch === 'transformer') {
    return {
      embed: [vocab, d],
      pos: [3, d],
      W_Q: [d, d],
      W_K: [d, d],
      W_V: [d, d],
      W_O: [d, d],
      W_in: [d, model.dMlp],
      b_in: [model.dMlp],
      W_out: [model.dMlp, d],
      b_out: [d],
      W_U: [d, classes],
    };
  }
  return {
    embed: [vocab, d],
    W_in: [2 * d, model.dMlp],
    b_in: [model.dMlp],
    W_out: [model.dMlp, d],
    b_out: [d],
    W_U: [d, classes],
  };
}
