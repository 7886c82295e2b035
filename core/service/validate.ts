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
  compare: z.tuple([z.array(RunId).min(1).max(2000), z.strictObject({ lines: z.boolean().optional(), columns: z.number().int().min(50).max(4000).optional(), align: z.enum(['T_mem', 'T_grok']).optional() }).optional()]),
  startRun: z.tuple([RunRequestSchema]),
  resumeRun: z.tuple([RunId]),
  stopRun: z.tuple([RunId]),
  deleteRuns: z.tuple([z.array(RunId).min(1).max(10_000)]),
  tagRuns: z.tuple([z.array(RunId).min(1).max(10_000), z.array(z.string().min(1).max(64)).max(100), z.array(z.string().min(1).max(64)).max(100)]),
  startStudy: z.tuple([z.union([z.string().min(1).max(100), z.record(z.string(), z.unknown())]), z.strictObject({ queue: z.string().min(1).max(500).optional(), results: z.string().min(1).max(1000).optional() }).optional()]),
  formChoices: z.tuple([]),
  planStudy: z.tuple([z.union([z.string().min(1).max(100), z.record(z.string(), z.unknown())])]),
  importFiles: z.tuple([z.array(Uploaded).min(1).max(100)]),
  exportRuns: z.tuple([z.array(RunId).min(1).max(10_000), z.enum(['grokrun', 'grokbundle', 'csv'])]),
  exportModel: z.tuple([RunId, z.number().int().nonnegative().nullable()]),
};

export function configFromRequest(request: RunRequest): RunConfig {
  const { preset = 'quick', ...rest } = request;
  const base = PRESETS[preset as keyof typeof PRESETS];
  if (!base) throw new ApiError(`unknown preset '${preset}'`);
  const spectrumEvery = rest.evalEvery !== undefined ? rest.evalEvery * Math.max(1, Math.round(base.spectrumEvery / base.evalEvery)) : base.spectrumEvery;
  const parsed = RunConfigSchema.safeParse({ ...base, spectrumEvery, ...rest });
  if (!parsed.success) throw new ApiError(`invalid run: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
