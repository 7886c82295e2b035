import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '../schema/run-config.js';
import type { BackendChoice } from '../schema/backend-choices.js';
import { versions } from '../versions.js';
import { firstLine } from '../errors.js';

/**
 * `auto` by measured speed (docs/backends.md, "auto"): where a device backend (tensorflow, or
 * webgpu on a hardware adapter) competes with the CPU ones, each candidate trains a few steps of
 * the run's own shape (its group size included) in a child process, once per machine and shape;
 * the figures are kept in the library's `backend-speed.json` with the machine (CPU, adapter) and
 * package versions they were measured under, so a new driver, GPU or release measures again.
 * The fastest per run-step wins, and the run's backend note says which figures chose it. Where no
 * device backend loads, `auto` keeps its fixed order (wasm+openblas, then wasm): those two were
 * measured once for all (docs/benchmarks.md) and measuring would only cost every new shape time.
 */
export interface SpeedFigure {
  backend: BackendChoice;
  /** Milliseconds per run-step, or null where the backend failed (error says why). */
  msPerRunStep: number | null;
  error?: string;
}

export interface SpeedEntry {
  shape: string;
  machine: string;
  measuredAt: string;
  figures: SpeedFigure[];
}

const DEVICE: BackendChoice[] = ['tensorflow', 'webgpu'];

/** What a figure depends on beyond the machine: the computation's shape and the group size. */
export function shapeKey(config: RunConfig, group: number): string {
  const { arch, task, p, trainFraction, dModel, nHeads, dMlp } = config;
  return JSON.stringify({ arch, task, p, trainFraction, dModel, nHeads, dMlp, group });
}

/** The machine and software a figure was measured on. */
export function machineKey(adapter: string | null): string {
  const v = versions();
  let webgpu = 'absent';
  try {
    webgpu = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('webgpu/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // not installed
  }
  return JSON.stringify({ cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.availableParallelism()}`, adapter, grokscope: v.grokscope, tfjs: v['tfjs-core'], webgpu, node: v.node });
}

/** Whether `auto` measures: some device backend is among the candidates, beside another one. */
export function worthMeasuring(candidates: BackendChoice[]): boolean {
  return candidates.length > 1 && candidates.some((c) => DEVICE.includes(c));
}

function readEntries(file: string): SpeedEntry[] {
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { entries?: SpeedEntry[] };
    return Array.isArray(parsed.entries) ? parsed.entries : [];
  } catch {
    return []; // a damaged file is measured again and rewritten
  }
}

function writeEntries(file: string, entries: SpeedEntry[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, entries }, null, 1)}\n`);
  renameSync(tmp, file);
}

export interface SpeedChoice {
  backend: BackendChoice;
  /** The note's part that says which figures chose it. */
  note: string;
  entry: SpeedEntry;
  /** Whether this call measured (false: the figures were already there). */
  measured: boolean;
}

/**
 * The fastest candidate for this shape on this machine, measuring (with `measure`) what the file
 * does not hold yet. Throws when every candidate failed.
 */
export async function chooseBySpeed(o: {
  file: string;
  shape: string;
  machine: string;
  candidates: BackendChoice[];
  measure: (backend: BackendChoice) => Promise<number>;
}): Promise<SpeedChoice> {
  const entries = readEntries(o.file);
  let entry = entries.find((e) => e.shape === o.shape && e.machine === o.machine && o.candidates.every((c) => e.figures.some((f) => f.backend === c)));
  const measured = !entry;
  if (!entry) {
    const figures: SpeedFigure[] = [];
    for (const backend of o.candidates) {
      try {
        figures.push({ backend, msPerRunStep: await o.measure(backend) });
      } catch (err) {
        figures.push({ backend, msPerRunStep: null, error: firstLine(err) });
      }
    }
    entry = { shape: o.shape, machine: o.machine, measuredAt: new Date().toISOString(), figures };
    writeEntries(o.file, [...entries.filter((e) => !(e.shape === o.shape && e.machine === o.machine)), entry]);
  }
  const usable = entry.figures.filter((f) => o.candidates.includes(f.backend) && f.msPerRunStep !== null) as (SpeedFigure & { msPerRunStep: number })[];
  if (!usable.length) throw new Error(`no backend trained this shape (${entry.figures.map((f) => `${f.backend}: ${f.error}`).join('; ')})`);
  const best = usable.reduce((a, b) => (b.msPerRunStep < a.msPerRunStep ? b : a));
  const list = entry.figures.map((f) => (f.msPerRunStep === null ? `${f.backend} failed` : `${f.backend} ${f.msPerRunStep.toPrecision(3)} ms`)).join(', ');
  return { backend: best.backend, note: `measured fastest per run-step for this shape (${list}; ${measured ? 'measured now' : `measured ${entry.measuredAt.slice(0, 10)}`}, ${o.file})`, entry, measured };
}

/** The compiled child that times a backend (speed-child.ts), from source or from dist. */
function childFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const f of [path.join(here, 'speed-child.js'), path.resolve(here, '../../dist/core/train/speed-child.js')]) if (existsSync(f)) return f;
  throw new Error("the speed probe is not built; run 'npm run build:node'");
}

export const SPEED_TIMEOUT_MS = 180_000;

/** ms per run-step of `backend` on this shape, in a child process (a backend that hangs or crashes costs only the child). */
export function measureInChild(config: RunConfig, backend: BackendChoice, group: number): Promise<number> {
  const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [childFile(), JSON.stringify({ config: { ...config, backend }, group })], { timeout: SPEED_TIMEOUT_MS, killSignal: 'SIGKILL', env, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { msPerRunStep?: number; error?: string };
        if (typeof r.msPerRunStep === 'number') return resolve(r.msPerRunStep);
        if (r.error) return reject(new Error(r.error));
      } catch {
        // fall through
      }
      reject(new Error(err ? `speed probe failed (${(err as { killed?: boolean }).killed ? 'timed out' : firstLine(stderr || err)})` : 'speed probe gave no answer'));
    });
  });
}

/** Each measured shape's fastest figure, as the study estimate takes them (steps: 1, seconds per run-step). */
export function speedFigures(file: string): { arch: string; dModel: number; dMlp: number; p: number; task: string; steps: number; seconds: number }[] {
  return readEntries(file).flatMap((e) => {
    const best = e.figures.map((f) => f.msPerRunStep).filter((x): x is number => x !== null);
    if (!best.length) return [];
    const shape = JSON.parse(e.shape) as { arch: string; dModel: number; dMlp: number; p: number; task: string };
    return [{ arch: shape.arch, dModel: shape.dModel, dMlp: shape.dMlp, p: shape.p, task: shape.task, steps: 1, seconds: Math.min(...best) / 1000 }];
  });
}
