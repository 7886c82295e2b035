import { z } from 'zod';
import type { ApiMethod, RunRequest } from '../api.js';
import { GrokscopeError } from '../errors.js';
import { PRESETS, RunConfigSchema, describeZodError, type RunConfig } from '../schema/run-config.js';

/** What a transport accepts before anything runs: argument schemas per method, and run requests made into configs. */
export class ApiError extends GrokscopeError {}

const RunRequestSchema = z
  .object({
    preset: z.enum(Object.keys(PRESETS) as [string, ...string[]]).optional(),
    task: z.string().optional(),
    arch: z.string().optional(),
    seed: z.number().int().nonnegative().optional(),
    steps: z.number().int().positive().optional(),
    evalEvery: z.number().int().positive().optional(),
    condition: z.string().optional(),
    p: z.number().int().positive().optional(),
    dModel: z.number().int().positive().optional(),
    nHeads: z.number().int().positive().optional(),
    dMlp: z.number().int().positive().optional(),
    lr: z.number().positive().optional(),
    weightDecay: z.number().min(0).optional(),
    trainFraction: z.number().gt(0).lt(1).optional(),
    backend: z.string().optional(),
    probe: z.string().optional(),
    normTargetRun: z.string().optional(),
    temperature: z.number().positive().optional(),
    initScale: z.number().positive().optional(),
    init: z.string().optional(),
    earlyStopEvals: z.number().int().min(0).optional(),
    checkpointEvery: z.number().int().positive().optional(),
    spectrumEvery: z.number().int().positive().optional(),
    mixForm: z.string().optional(),
    mixStrength: z.number().min(0).optional(),
    seeds: z.string().min(1).max(1000).optional(),
  })
  .strict();

const RunId = z.string().min(1).max(200);
/** 64 MiB of file per import call: larger bundles go through `grokscope import`. */
const MAX_UPLOAD_BASE64 = Math.ceil((64 * 2 ** 20 * 4) / 3);
const Uploaded = z.object({ name: z.string().min(1).max(255), base64: z.string().max(MAX_UPLOAD_BASE64, 'file over 64 MiB: use grokscope import') }).strict();

/** Argument schemas per method: what a transport accepts before anything runs. */
export const ARGS: Record<ApiMethod, z.ZodType<unknown[]>> = {
  listRuns: z.tuple([]),
  getRun: z.tuple([RunId, z.strictObject({ forecast: z.boolean().optional(), spectra: z.boolean().optional() }).optional()]),
  compare: z.tuple([
    z.array(RunId).min(1).max(2000),
    z
      .strictObject({
        lines: z.boolean().optional(),
        columns: z.number().int().min(50).max(4000).optional(),
        align: z.enum(['T_mem', 'T_rise', 'T_grok']).optional(),
        band: z.enum(['minmax', 'sd', 'se', 'ci95']).optional(),
        smoothing: z.number().min(0).finite().optional(),
        probe: z.string().optional(),
        groupBy: z.array(z.string()).max(100).optional(),
        full: z.boolean().optional(),
      })
      .optional(),
  ]),
  startRun: z.tuple([RunRequestSchema]),
  resumeRun: z.tuple([RunId]),
  stopRun: z.tuple([RunId]),
  deleteRuns: z.tuple([z.array(RunId).min(1).max(10_000)]),
  tagRuns: z.tuple([z.array(RunId).min(1).max(10_000), z.array(z.string().min(1).max(64)).max(100), z.array(z.string().min(1).max(64)).max(100)]),
  startStudy: z.tuple([z.union([z.string().min(1).max(100), z.record(z.string(), z.unknown())]), z.strictObject({ queue: z.string().min(1).max(500).optional(), results: z.string().min(1).max(1000).optional() }).optional()]),
  formChoices: z.tuple([]),
  planStudy: z.tuple([z.union([z.string().min(1).max(100), z.record(z.string(), z.unknown())])]),
  listStudies: z.tuple([]),
  // A study's name as its spec allows it (study-spec.ts): it names a folder, so never a path.
  getStudyReport: z.tuple([z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/).refine((s) => s !== '.' && s !== '..', 'not a study name')]),
  importFiles: z.tuple([z.array(Uploaded).min(1).max(100)]),
  exportRuns: z.tuple([z.array(RunId).min(1).max(10_000), z.enum(['grokrun', 'grokbundle', 'csv'])]),
  exportModel: z.tuple([RunId, z.number().int().nonnegative().nullable()]),
};

export function configFromRequest(request: RunRequest): RunConfig {
  const { preset = 'quick', seeds: _seeds, ...rest } = request;
  const base = PRESETS[preset as keyof typeof PRESETS];
  if (!base) throw new ApiError(`unknown preset '${preset}'`);
  const spectrumEvery = rest.spectrumEvery ?? (rest.evalEvery !== undefined ? rest.evalEvery * Math.max(1, Math.round(base.spectrumEvery / base.evalEvery)) : base.spectrumEvery);
  const parsed = RunConfigSchema.safeParse({ ...base, spectrumEvery, ...rest });
  if (!parsed.success) throw new ApiError(`invalid run: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** The most runs one request with `seeds` launches (as `grokscope run --seeds`). */
export const MAX_REQUEST_SEEDS = 1000;

/**
 * `seeds` as `grokscope run --seeds` reads it: "0-4", "0,3,7" or "0-2,9", each seed once, in the
 * order given. Problems are "seeds: …", so that the form shows them at the field.
 */
export function parseSeedList(raw: string): number[] {
  const seeds: number[] = [];
  for (const part of raw.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new ApiError(`invalid run: seeds: expects seeds like 0-4 or 0,3,7 (got '${raw}')`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new ApiError(`invalid run: seeds: the range ${part.trim()} runs backwards`);
    if (to - from + 1 + seeds.length > MAX_REQUEST_SEEDS) throw new ApiError(`invalid run: seeds: at most ${MAX_REQUEST_SEEDS} runs in one request`);
    for (let s = from; s <= to; s++) if (!seeds.includes(s)) seeds.push(s);
  }
  return seeds;
}

/** A request's runs: one config, or with `seeds` one per seed (a run group of one shape, as `run --seeds`). */
export function configsFromRequest(request: RunRequest): RunConfig[] {
  if (request.seeds === undefined) return [configFromRequest(request)];
  if (request.seed !== undefined) throw new ApiError('invalid run: seeds: give either seed or seeds, not both');
  const seeds = parseSeedList(request.seeds);
  const base = configFromRequest({ ...request, seeds: undefined, seed: seeds[0] });
  return seeds.map((seed) => ({ ...base, seed }));
}
