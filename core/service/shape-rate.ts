import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '../schema/run-config.js';
import type { PlannedRun } from '../study/spec.js';
import { estimateStudy, shapeOf, shapesWithoutRate, type MeasuredRun, type ProbedRate, type StudyEstimate } from '../study/estimate.js';
import { firstLine } from '../errors.js';

/**
 * A study's time estimate where the library has no completed run of a shape (an empty library
 * above all): a short run of that shape timed on this machine (shape-rate-child.ts: a few dozen
 * steps and one evaluation, a second or two with the child's start on an idle machine), once per shape and
 * backend for the host's life. Measurements run one after another, so that two never compete for
 * the cores they time. planStudy answers at once while one runs (`measuring`); asked again, it
 * waits for it.
 */
type Rate = Omit<ProbedRate, 'arch' | 'dModel' | 'dMlp' | 'p' | 'task'>;

/** A dead or stuck child must not hold the estimate: far above the child's own budget. */
const CHILD_TIMEOUT_MS = 30_000;

/** The compiled child, from source (tests) or from dist. */
function childFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const f of [path.join(here, 'shape-rate-child.js'), path.resolve(here, '../../dist/core/service/shape-rate-child.js')]) if (existsSync(f)) return f;
  throw new Error("the step-rate probe is not built; run 'npm run build:node'");
}

/** One short measured run of `config`'s shape in a child process. */
export function timeShapeInChild(config: RunConfig): Promise<Rate> {
  const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
  return new Promise((resolve, reject) => {
    let file: string;
    try {
      file = childFile();
    } catch (err) {
      return reject(err as Error);
    }
    execFile(process.execPath, [file, JSON.stringify({ config })], { timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL', env, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as Partial<Rate> & { error?: string };
        if (typeof r.msPerStep === 'number') return resolve({ backend: String(r.backend), steps: Number(r.steps), msPerStep: r.msPerStep, msPerEval: r.msPerEval ?? null });
        if (r.error) return reject(new Error(r.error));
      } catch {
        // fall through: no JSON line
      }
      reject(new Error(err ? `the measuring run failed (${(err as { killed?: boolean }).killed ? 'timed out' : firstLine(stderr || err)})` : 'the measuring run gave no answer'));
    });
  });
}

/** What decides a measured rate: the shape the estimate matches on, and what else changes a step's cost. */
function rateKey(c: RunConfig | PlannedRun['config']): string {
  return JSON.stringify([shapeOf(c), c.trainFraction, c.nHeads, c.backend]);
}

export class ShapeRates {
  private readonly cache = new Map<string, Promise<Rate | Error>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly time: (config: RunConfig) => Promise<Rate> = timeShapeInChild) {}

  /**
   * The rates of these shapes, measuring those never asked for (one after another): `started`
   * names the shapes this call began to measure; `rates` settles when every one is known, a
   * measurement that failed as its Error (kept: a shape is not measured again on every keystroke).
   */
  request(configs: PlannedRun['config'][]): { started: string[]; rates: Promise<(ProbedRate | Error)[]> } {
    const started: string[] = [];
    const pending = configs.map((c) => {
      const key = rateKey(c);
      let p = this.cache.get(key);
      if (!p) {
        started.push(shapeOf(c));
        // The baseline's step: a matched condition cannot train without its mix run's targets.
        p = this.queue.then(() => this.time({ ...c, condition: 'baseline', earlyStopEvals: 0 } as RunConfig)).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
        this.queue = p;
        this.cache.set(key, p);
      }
      return p.then((r): ProbedRate | Error => (r instanceof Error ? r : { arch: c.arch, dModel: c.dModel, dMlp: c.dMlp, p: c.p, task: c.task, ...r }));
    });
    return { started, rates: Promise.all(pending) };
  }
}

/**
 * estimateStudy with short measured runs for the shapes nothing else covers (none when `rates` is
 * null: a host that trains nothing here has nothing to measure). While measurements it started
 * run, it answers at once with `measuring`; when they were started by an earlier call, it waits.
 */
export async function estimateWithProbes(plan: PlannedRun[], measured: MeasuredRun[], workers: number, speeds: MeasuredRun[], rates: ShapeRates | null): Promise<StudyEstimate & { measuring?: string[] }> {
  const missing = rates ? shapesWithoutRate(plan, measured, speeds) : [];
  if (!rates || !missing.length) return estimateStudy(plan, measured, workers, speeds);
  const asked = rates.request(missing);
  if (asked.started.length) {
    const base = estimateStudy(plan, measured, workers, speeds);
    return { ...base, seconds: null, basis: `measuring a short run of ${asked.started.join(', ')} on this machine (a few seconds, once per shape)…`, measuring: asked.started };
  }
  const got = await asked.rates;
  const failed = got.map((r, i) => (r instanceof Error ? `${shapeOf(missing[i])}: ${r.message}` : null)).filter((x): x is string => x !== null);
  const estimate = estimateStudy(plan, measured, workers, speeds, got.filter((r): r is ProbedRate => !(r instanceof Error)));
  return failed.length ? { ...estimate, basis: `${estimate.basis}; measuring a short run failed (${failed.join('; ')})` } : estimate;
}
