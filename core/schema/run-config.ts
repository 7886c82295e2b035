import { z } from 'zod';
import { TASK_NAMES, isPrime, isS5Task } from '../tasks/groups.js';
import { ARCHS, PROBES } from '../models/config.js';
import { DEFAULT_INIT, INIT_SCHEMES } from '../models/init.js';
import { BACKEND_CHOICES } from './backend-choices.js';
import { GrokscopeError } from '../errors.js';

/**
 * The run configuration: everything a run depends on, so that a run is reproducible from its
 * config alone. Every field that is our choice rather than the paper's is here, named, and
 * recorded in the run.
 */
export const CONDITIONS = ['baseline', 'mix', 'norm-matched', 'logit-matched'] as const;
/** Conditions that replay a trajectory of their seed's `mix` run (named by normTargetRun). */
export const MATCHED_CONDITIONS: readonly string[] = ['norm-matched', 'logit-matched'];
export const MIX_FORMS = ['orthogonal', 'entropy-penalty'] as const;

const positiveInt = z.number().int().positive();

export const RunConfigSchema = z
  .object({
    preset: z.string().optional(),
    task: z.enum(TASK_NAMES),
    /** Modulus for the Z/pZ tasks (ignored for s5). */
    p: positiveInt,
    trainFraction: z.number().gt(0).lt(1),
    /** Seed of initialisation; the split uses it too unless splitSeed is given. */
    seed: z.number().int().nonnegative(),
    splitSeed: z.number().int().nonnegative().optional(),
    arch: z.enum(ARCHS),
    dModel: positiveInt,
    nHeads: positiveInt,
    dMlp: positiveInt,
    lr: z.number().positive(),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    eps: z.number().positive(),
    weightDecay: z.number().min(0),
    steps: positiveInt,
    evalEvery: positiveInt,
    /** Full eigenvalue spectra are stored every this many steps (a multiple of evalEvery). */
    spectrumEvery: positiveInt,
    checkpointEvery: positiveInt,
    condition: z.enum(CONDITIONS),
    /** How `mix` prevents collapse (see core/train/interventions.ts). */
    mixForm: z.enum(MIX_FORMS),
    /** α of the orthogonal mix (0..1) or λ of the entropy penalty. */
    mixStrength: z.number().min(0),
    /**
     * For `norm-matched` and `logit-matched`: the `mix` run whose trajectory is replayed (its
     * per-step ‖θ‖, or its effective logit scale at its evaluations). The name is historical.
     */
    normTargetRun: z.string().min(1).optional(),
    /** A fixed, non-trainable output temperature: the loss and every evaluation see logits / temperature. Absent = 1 (the baseline exactly). */
    temperature: z.number().positive().optional(),
    /**
     * Every initial weight multiplied by this (absent = 1, the baseline exactly). After Liu et al.
     * 2022 (Omnigrok): a large initial norm memorises first and generalises once weight decay has
     * shrunk the norm, which lengthens the plateau. Measured as a quick-preset lever in docs/presets.md.
     */
    initScale: z.number().positive().optional(),
    /**
     * How the initial parameters are drawn (core/models/init.ts; docs/methods.md, "Models"). Absent =
     * 'normal-fan-in', the scheme of every run before the field existed, bit for bit; 'torch-linear'
     * is PyTorch's nn.Linear default (and nn.Embedding's for the token and position tables).
     */
    init: z.enum(INIT_SCHEMES).optional(),
    backend: z.enum(BACKEND_CHOICES),
    /** Probe whose H̃ defines T_cross. */
    probe: z.enum(PROBES),
    /** H̃* used for T_cross (the paper's ≈ 0.61 until our own estimate exists). */
    entropyThreshold: z.number().gt(0).lt(1),
    /** Consecutive evaluations below H̃* required for a crossing. */
    crossPersistence: positiveInt,
    /** Test accuracy that defines T_grok. */
    grokThreshold: z.number().gt(0).lte(1),
    /** Train accuracy that defines T_mem. */
    memThreshold: z.number().gt(0).lte(1),
    /** Number of top frequencies in the Fourier-alignment share. */
    fourierK: positiveInt,
    /** Stop once test accuracy ≥ grokThreshold for this many evaluations in a row (0 = never). */
    earlyStopEvals: z.number().int().min(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!isS5Task(c.task) && !isPrime(c.p)) {
      ctx.addIssue({ code: 'custom', path: ['p'], message: `must be a prime for ${c.task} (got ${c.p})` });
    }
    if (c.dModel % c.nHeads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['nHeads'], message: `dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads})` });
    }
    if (c.spectrumEvery % c.evalEvery !== 0) {
      ctx.addIssue({ code: 'custom', path: ['spectrumEvery'], message: `must be a multiple of evalEvery (${c.evalEvery})` });
    }
    if (c.condition === 'mix' && c.mixForm === 'orthogonal' && c.mixStrength > 1) {
      ctx.addIssue({ code: 'custom', path: ['mixStrength'], message: `α of the orthogonal mix must be in [0, 1] (got ${c.mixStrength})` });
    }
    if (c.condition === 'norm-matched' && !c.normTargetRun) {
      ctx.addIssue({ code: 'custom', path: ['normTargetRun'], message: "a norm-matched run needs the id of the 'mix' run whose weight norm it replays" });
    }
    if (c.condition === 'logit-matched' && !c.normTargetRun) {
      ctx.addIssue({ code: 'custom', path: ['normTargetRun'], message: "a logit-matched run needs the id of the 'mix' run whose logit scale it replays" });
    }
    if (c.condition === 'logit-matched' && c.temperature !== undefined && c.temperature !== 1) {
      ctx.addIssue({ code: 'custom', path: ['temperature'], message: 'a logit-matched run sets its own temperature at every step; leave temperature out' });
    }
    if (c.condition === 'mix' && c.earlyStopEvals > 0) {
      ctx.addIssue({ code: 'custom', path: ['earlyStopEvals'], message: 'a mix run must train its whole budget: its weight norms are the norm-matched targets' });
    }
    if (c.probe === 'attn.out' && c.arch === 'mlp') {
      ctx.addIssue({ code: 'custom', path: ['probe'], message: "the mlp has no 'attn.out' probe" });
    }
  });

export type RunConfig = z.infer<typeof RunConfigSchema>;

/**
 * What an optional field's absence means: a run that writes one of these at this value is the
 * same run as one that leaves it out (the run view's preset diff and compare's settings read it).
 */
export const ABSENT_MEANS: Readonly<Record<string, unknown>> = { temperature: 1, initScale: 1, init: DEFAULT_INIT };

const common = {
  task: 'mod-add',
  seed: 0,
  arch: 'transformer',
  nHeads: 4,
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-8,
  weightDecay: 1.0,
  condition: 'baseline',
  mixForm: 'orthogonal',
  mixStrength: 0.5,
  backend: 'auto',
  probe: 'resid.final',
  entropyThreshold: 0.61,
  crossPersistence: 3,
  grokThreshold: 0.95,
  memThreshold: 0.99,
  fourierK: 5,
  earlyStopEvals: 0,
} as const;

/**
 * `reference`: Nanda et al.'s size (needs a GPU to be practical). `quick`: found by measurement
 * on a 2-core CPU to grok within minutes after a plateau near chance (p = 47, 35 % train; the
 * evidence is in docs/presets.md). `fast`: the quick preset until 2026-11-30 (p = 31, 50 % train):
 * groks in about a minute but leaves chance soon after memorising; kept for demos and tests. `nanda`: the setting of
 * TransformerLens' Grokking demo (Nanda et al. 2023's progress-measures notebook: p = 113, 30 %
 * train, d_model 128, 4 heads, d_mlp 512, ReLU, no LayerNorm, full-batch AdamW lr 1e-3, weight
 * decay 1, betas 0.9/0.98, 25,000 epochs), so our curves line up with that community's. `s5`:
 * composition in S5 at a size a 2-core CPU runs in minutes (the quick preset's model, half the
 * 14,400 pairs, lr 1e-2; chosen by the rule in docs/presets.md, where the evidence is).
 */
export const PRESETS: Record<'quick' | 'fast' | 'reference' | 'nanda' | 's5', RunConfig> = {
  reference: {
    ...common,
    preset: 'reference',
    p: 97,
    trainFraction: 0.3,
    dModel: 128,
    dMlp: 512,
    steps: 30000,
    evalEvery: 100,
    spectrumEvery: 1000,
    checkpointEvery: 5000,
  },
  quick: {
    ...common,
    preset: 'quick',
    p: 47,
    trainFraction: 0.35,
    dModel: 64,
    dMlp: 256,
    lr: 3e-3,
    steps: 10000,
    evalEvery: 50,
    spectrumEvery: 500,
    checkpointEvery: 2000,
  },
  fast: {
    ...common,
    preset: 'fast',
    p: 31,
    trainFraction: 0.5,
    dModel: 64,
    dMlp: 256,
    lr: 3e-3,
    steps: 6000,
    evalEvery: 20,
    spectrumEvery: 200,
    checkpointEvery: 1000,
  },
  nanda: {
    ...common,
    preset: 'nanda',
    p: 113,
    trainFraction: 0.3,
    dModel: 128,
    nHeads: 4,
    dMlp: 512,
    lr: 1e-3,
    weightDecay: 1.0,
    beta1: 0.9,
    beta2: 0.98,
    steps: 25000,
    evalEvery: 100,
    spectrumEvery: 1000,
    checkpointEvery: 5000,
  },
  s5: {
    ...common,
    preset: 's5',
    task: 's5',
    // p is not used by S5 tasks (120 permutations); any positive integer validates.
    p: 5,
    trainFraction: 0.5,
    dModel: 64,
    dMlp: 256,
    lr: 1e-2,
    steps: 10000,
    evalEvery: 100,
    spectrumEvery: 1000,
    checkpointEvery: 2500,
  },
};

export type PresetName = keyof typeof PRESETS;

/** One line per problem, naming the field: what the CLI and IPC show on bad input. */
export function describeZodError(err: z.ZodError, prefix = ''): string {
  return err.issues
    .map((i) => {
      const where = i.path.length ? `${prefix}${i.path.join('.')}` : prefix || 'config';
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

export class ConfigError extends GrokscopeError {}

export function parseRunConfig(raw: unknown, source = 'config'): RunConfig {
  const result = RunConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid ${source}: ${describeZodError(result.error)}`);
  return result.data;
}
