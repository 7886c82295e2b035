import { PRESETS, type RunConfig } from '../../core/schema/run-config.js';
import { Library } from '../../core/library/library.js';
import type { EvalRecord } from '../../core/schema/eval-record.js';

/** An evaluation record with distinct, non-round numbers (so any lost digit shows). */
export function fixtureRecord(step: number, salt = 0, withSpectra = false): EvalRecord {
  const x = step + salt;
  return {
    step,
    train_loss: 1 / (x + 1.1),
    train_acc: Math.min(1, x / 97),
    test_loss: 2 / (x + 1.3),
    test_acc: Math.min(1, x / 1013),
    weight_norm: 10 + Math.sqrt(x + 0.7),
    tensor_norms: { embed: 1.5 + x / 7, W_U: 2.5 - x / 11 },
    probes: {
      'resid.final': { entropy: 0.9 - x / 1777, eff_rank: 12.25, top5_share: 0.4 + x / 3001 },
      embed: { entropy: 0.8, eff_rank: 10 + x / 13, top5_share: 0.5 },
    },
    fourier: { topk_share: 0.3 + x / 5003, gini: 0.2 },
    logits: { scale: 3 + x / 19, max_softmax: 0.5 + x / 4001, train_margin: x / 23 - 1 },
    ...(withSpectra ? { spectra: { 'resid.final': [3 + x / 17, 2, 1e-9, 0.1 + 0.2] } } : {}),
  };
}

/** A completed run with metrics, spectra, tensor and per-step norms, made without training. */
/** `olderRecord`: as Grokscope recorded runs before evaluation scalars (no logit statistics). */
export async function makeFixtureRun(libraryDir: string, opts: { id?: string; salt?: number; config?: Partial<RunConfig>; olderRecord?: boolean } = {}): Promise<string> {
  const config: RunConfig = { ...PRESETS.fast, seed: 3, ...opts.config };
  const salt = opts.salt ?? 0;
  return Library.with(libraryDir, async (lib) => {
    const id = await lib.createRun(config, { node: 'v20.0.0', 'tfjs-core': '4.22.0' }, opts.id);
    const steps = [0, 20, 40, 60];
    await lib.appendEvals(
      id,
      steps.map((s) => {
        const { logits, ...older } = fixtureRecord(s, salt, s % 40 === 0);
        return opts.olderRecord ? older : { ...older, logits };
      }),
      Array.from({ length: 61 }, (_, i) => ({ step: i, norm: 10 + i / 3 + salt })),
    );
    await lib.updateRun(id, {
      status: 'completed',
      backend: 'wasm',
      backendNote: 'fixture',
      // Made up (not what its metrics give: views and exports recompute them); below_at_mem is the one boolean a saved run's run.json must carry.
      events: { T_mem: 20, T_grok: 60, T_grok_50: 40, T_grok_99: null, T_cross: 40, lead: 20, below_at_mem: false },
    });
    return id;
  });
}
