import type { RunConfig } from '../../schema/run-config.js';
import { probesFor, type ProbeName } from '../../models/config.js';
import { residueTask } from '../../spectra/residues.js';

/**
 * What an evaluation must read out of a run's model (docs/architecture.md, "The evaluation
 * room"), decided once from its config and the kind of evaluation, for every engine: the probes
 * whose covariances it needs, whether every input's logits (the progress measures, residue tasks
 * only: the one large read), and which weight matrices — the embedding and unembedding every
 * evaluation (effective ranks, Fourier or irrep alignment), W_out too where the progress measures
 * are (the neuron-to-logit map), every 2-D matrix at spectrum evaluations (weight spectra).
 */
export interface ReadoutPlan {
  probes: ProbeName[];
  logits: boolean;
  matrices: string[];
}

export function readoutPlan(config: RunConfig, shapes: Record<string, number[]>, withSpectra: boolean): ReadoutPlan {
  const logits = residueTask(config.task) !== null;
  const matrices = Object.keys(shapes).filter((n) => shapes[n].length === 2);
  return {
    probes: probesFor(config.arch),
    logits,
    matrices: withSpectra ? matrices : matrices.filter((n) => n === 'embed' || n === 'W_U' || (logits && n === 'W_out')),
  };
}
