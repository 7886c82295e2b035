import path from 'node:path';
import type { Piscina } from 'piscina';
import type { RunConfig } from '../schema/run-config.js';
import { Library, type MetricRow, type RunRecord } from '../library/library.js';
import { importSourcesInto, type ImportReport } from '../library/transfer.js';
import { executeRun, type RunProgress } from './run-executor.js';

/**
 * `grokscope reproduce BUNDLE`: import the bundle's runs into a scratch library, train each again
 * from its config on this machine, and compare.
 *
 * Tolerances (fixed here before any comparison was run, and printed with every verdict):
 * - same backend: every stored metric of every evaluation must be identical (bit for bit:
 *   training is deterministic on one backend, see test/resume.test.ts);
 * - another backend: float rounding differs from the first step and grows through training, so
 *   we compare what the science uses: T_grok within max(5 evaluations, 10 % of T_grok), and H̃ of
 *   the run's probe within 0.05 at every common evaluation up to the original T_grok (or the end).
 */
export const CROSS_BACKEND_TOLERANCE = { tGrokEvals: 5, tGrokRelative: 0.1, entropyAbs: 0.05 } as const;

export type ReproduceVerdict = 'identical' | 'within-tolerance' | 'differs' | 'failed' | 'skipped';

export interface RunComparison {
  id: string;
  condition: string;
  originalBackend: string | null;
  backend: string | null;
  verdict: ReproduceVerdict;
  /** The rule the verdict applied. */
  rule: string;
  /** Human-readable differences (at most 10). */
  differences: string[];
  T_grok: { original: number | null; reproduced: number | null };
  maxEntropyDiff: number | null;
}

interface RunSide {
  record: Pick<RunRecord, 'backend' | 'config' | 'events'>;
  metrics: MetricRow[];
}

function fieldsOf(r: MetricRow): [string, number | null][] {
  const out: [string, number | null][] = [
    ['train_loss', r.train_loss],
    ['train_acc', r.train_acc],
    ['test_loss', r.test_loss],
    ['test_acc', r.test_acc],
    ['weight_norm', r.weight_norm],
    ['fourier_topk_share', r.fourier_topk_share],
    ['fourier_gini', r.fourier_gini],
  ];
  for (const kind of ['entropy', 'eff_rank', 'top5_share'] as const) for (const p of Object.keys(r[kind]).sort()) out.push([`${kind}.${p}`, r[kind][p]]);
  // Scalars the original recorded (a run recorded before they existed has none to compare).
  for (const name of Object.keys(r.scalars ?? {}).sort()) out.push([name, r.scalars[name]]);
  return out;
}

const same = (a: number | null, b: number | null): boolean => a === b || (a !== null && b !== null && Number.isNaN(a) && Number.isNaN(b));

/** Compare an original run with its reproduction (pure; the rules above). */
export function compareRuns(id: string, original: RunSide, reproduced: RunSide): Omit<RunComparison, 'condition'> {
  const differences: string[] = [];
  const T_grok = { original: original.record.events?.T_grok ?? null, reproduced: reproduced.record.events?.T_grok ?? null };
  const base = { id, originalBackend: original.record.backend, backend: reproduced.record.backend, T_grok };
  const probe = original.record.config.probe;
  const byStep = new Map(reproduced.metrics.map((m) => [m.step, m]));
  const horizon = T_grok.original ?? Infinity;
  let maxEntropyDiff: number | null = null;
  for (const m of original.metrics) {
    const r = byStep.get(m.step);
    if (!r || m.step > horizon) continue;
    const a = m.entropy[probe];
    const b = r.entropy[probe];
    if (a !== undefined && b !== undefined) maxEntropyDiff = Math.max(maxEntropyDiff ?? 0, Math.abs(a - b));
  }
  if (original.record.backend !== null && original.record.backend === reproduced.record.backend) {
    const rule = `same backend (${original.record.backend}): every metric identical`;
    if (original.metrics.length !== reproduced.metrics.length) {
      differences.push(`${original.metrics.length} evaluations originally, ${reproduced.metrics.length} now`);
    }
    for (const m of original.metrics) {
      const r = byStep.get(m.step);
      if (!r) {
        differences.push(`step ${m.step}: missing in the reproduction`);
      } else {
        const theirs = new Map(fieldsOf(r));
        for (const [k, v] of fieldsOf(m)) {
          const w = theirs.has(k) ? theirs.get(k)! : null;
          if (!same(v, w)) differences.push(`step ${m.step}: ${k} ${v} originally, ${w} now`);
        }
      }
      if (differences.length >= 10) break;
    }
    return { ...base, verdict: differences.length ? 'differs' : 'identical', rule, differences: differences.slice(0, 10), maxEntropyDiff };
  }
  const tol = CROSS_BACKEND_TOLERANCE;
  const evalEvery = original.record.config.evalEvery;
  const tGrokTol = Math.max(tol.tGrokEvals * evalEvery, tol.tGrokRelative * (T_grok.original ?? 0));
  const rule = `other backend (${original.record.backend ?? 'unknown'} → ${reproduced.record.backend ?? 'unknown'}): |ΔT_grok| ≤ ${tGrokTol} steps, |ΔH̃(${probe})| ≤ ${tol.entropyAbs} up to T_grok`;
  if ((T_grok.original === null) !== (T_grok.reproduced === null)) {
    differences.push(`T_grok ${T_grok.original ?? 'never'} originally, ${T_grok.reproduced ?? 'never'} now`);
  } else if (T_grok.original !== null && T_grok.reproduced !== null && Math.abs(T_grok.original - T_grok.reproduced) > tGrokTol) {
    differences.push(`T_grok ${T_grok.original} originally, ${T_grok.reproduced} now (tolerance ${tGrokTol})`);
  }
  if (maxEntropyDiff === null) differences.push(`no common evaluations of H̃(${probe}) to compare`);
  else if (maxEntropyDiff > tol.entropyAbs) differences.push(`H̃(${probe}) differs by up to ${maxEntropyDiff.toFixed(4)} (tolerance ${tol.entropyAbs})`);
  return { ...base, verdict: differences.length ? 'differs' : 'within-tolerance', rule, differences, maxEntropyDiff };
}

export interface ReproduceOptions {
  source: string;
  pool: Piscina;
  /** Scratch library folder: the originals and the reproductions are written here. */
  workDir: string;
  onProgress?: (id: string, p: RunProgress) => void;
  signal?: AbortSignal;
}

export interface ReproduceResult {
  runs: RunComparison[];
}

/** Reproduce every run of a bundle (or saved run); norm-matched runs wait for their mix run. */
export async function reproduceBundle(opts: ReproduceOptions): Promise<ReproduceResult> {
  const originalsDir = path.join(opts.workDir, 'originals');
  const againDir = path.join(opts.workDir, 'reproduced');
  const [report]: ImportReport[] = await Library.with(originalsDir, (lib) => importSourcesInto(lib, [opts.source]));
  if (!report.ok) throw new Error(report.error);
  const ids = report.outcomes.map((o) => o.id);
  const originals = await Library.with(originalsDir, async (lib) => {
    const out = new Map<string, RunSide & { record: RunRecord }>();
    for (const id of ids) out.set(id, { record: await lib.getRun(id), metrics: await lib.getMetrics(id) });
    return out;
  });
  // The id each run gets in the scratch library, known once its reproduction is created
  // (null if it never is); a norm-matched run waits for its mix run's.
  const newIds = new Map<string, { promise: Promise<string | null>; resolve: (id: string | null) => void }>();
  for (const id of ids) {
    let resolve!: (id: string | null) => void;
    const promise = new Promise<string | null>((r) => (resolve = r));
    newIds.set(id, { promise, resolve });
  }
  const reproduceOne = async (id: string): Promise<RunComparison> => {
    const orig = originals.get(id)!;
    const condition = orig.record.config.condition;
    const skeleton = { id, condition, originalBackend: orig.record.backend, backend: null, T_grok: { original: orig.record.events?.T_grok ?? null, reproduced: null }, maxEntropyDiff: null };
    if (orig.record.status !== 'completed') {
      return { ...skeleton, verdict: 'skipped', rule: 'only completed runs are reproduced', differences: [`run was ${orig.record.status}`] };
    }
    let config: RunConfig = orig.record.config;
    if (config.normTargetRun) {
      const targetId = newIds.has(config.normTargetRun) ? await newIds.get(config.normTargetRun)!.promise : null;
      if (!targetId) return { ...skeleton, verdict: 'failed', rule: 'a norm-matched run needs its mix run reproduced first', differences: [`mix run ${config.normTargetRun} was not reproduced`] };
      config = { ...config, normTargetRun: targetId };
    }
    let createdId: string | null = null;
    const outcome = await executeRun({
      libraryDir: againDir,
      pool: opts.pool,
      config,
      signal: opts.signal,
      onCreated: (newId) => {
        createdId = newId;
      },
      onProgress: (p) => opts.onProgress?.(id, p),
    });
    if (outcome.status !== 'completed') {
      return { ...skeleton, backend: outcome.backend, verdict: 'failed', rule: 'the reproduction must complete', differences: [outcome.error ?? `run ${outcome.status}`] };
    }
    newIds.get(id)!.resolve(createdId);
    const again = await Library.with(againDir, async (lib) => ({ record: await lib.getRun(outcome.runId), metrics: await lib.getMetrics(outcome.runId) }));
    return { condition, ...compareRuns(id, orig, again) };
  };
  const comparisons = new Map<string, Promise<RunComparison>>();
  for (const id of ids) {
    comparisons.set(
      id,
      reproduceOne(id).finally(() => newIds.get(id)!.resolve(null)),
    );
  }
  const runs = await Promise.all(ids.map((id) => comparisons.get(id)!));
  return { runs };
}
