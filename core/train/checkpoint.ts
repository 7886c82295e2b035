import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostParams } from '../models/init.js';
import type { TrainState } from './trainer.js';
import { GrokscopeError, isOutOfSpace, outOfSpaceMessage } from '../errors.js';

/**
 * Checkpoint file: the magic line `GROKSCOPE-CKPT\n`, a little-endian u32 header length, a JSON
 * header {version, step, tensors: [{group, name, shape, offset, length}]}, then the float32 data.
 * Written to a temporary name and renamed, so a crash never leaves a half-written checkpoint.
 */
const MAGIC = Buffer.from('GROKSCOPE-CKPT\n');
export const CHECKPOINT_VERSION = 1;

interface TensorEntry {
  group: 'params' | 'm' | 'v';
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export function checkpointPath(dir: string, step: number): string {
  return path.join(dir, `step-${String(step).padStart(8, '0')}.ckpt`);
}

/** Steps of the checkpoints in a run's checkpoint folder, ascending ([] when it has none or does not exist). */
export function checkpointSteps(dir: string): number[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .map((f) => /^step-(\d+)\.ckpt$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * What a checkpoint carries beside the state: the spectral-edge gap of the evaluation at its step
 * (its window of updates is not in the checkpoint, so a run resumed there records the gap its
 * uninterrupted twin did; the worker writes checkpoints only where no window is open), and the
 * early-stop count. Extra header fields: readers that do not know them ignore them.
 */
export interface CheckpointExtras {
  updateEdge?: { gap: number; k: number } | null;
  /**
   * The early-stop count (evaluations in a row at the grokking threshold) before the step's
   * evaluation, which a resumed run re-does: so it stops early where its uninterrupted twin did.
   */
  solvedEvals?: number;
}

export function saveCheckpoint(file: string, state: TrainState, extras: CheckpointExtras = {}): void {
  const entries: TensorEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const group of ['params', 'm', 'v'] as const) {
    for (const [name, t] of Object.entries(state[group])) {
      entries.push({ group, name, shape: t.shape, offset, length: t.data.length });
      chunks.push(t.data);
      offset += t.data.length;
    }
  }
  const extra = { ...(extras.updateEdge ? { updateEdge: extras.updateEdge } : {}), ...(extras.solvedEvals ? { solvedEvals: extras.solvedEvals } : {}) };
  const header = Buffer.from(JSON.stringify({ version: CHECKPOINT_VERSION, step: state.step, tensors: entries, ...extra }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const data = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([MAGIC, len, header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
  } catch (err) {
    // A partial temporary file would only take room the user needs back.
    rmSync(tmp, { force: true });
    throw isOutOfSpace(err) ? new GrokscopeError(`${outOfSpaceMessage(`checkpoint ${file}`, err)}; the run can be resumed from its previous checkpoint`) : err;
  }
  renameSync(tmp, file);
}

export function loadCheckpoint(file: string): TrainState & CheckpointExtras {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read checkpoint ${file}: ${(err as Error).message}`);
  }
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${file} is not a Grokscope checkpoint`);
  const headerLen = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  let header: { version: number; step: number; tensors: TensorEntry[]; updateEdge?: { gap: number; k: number }; solvedEvals?: number };
  try {
    header = JSON.parse(buf.subarray(start, start + headerLen).toString('utf8'));
  } catch {
    throw new Error(`checkpoint ${file} has a corrupt header`);
  }
  if (header.version !== CHECKPOINT_VERSION) throw new Error(`checkpoint ${file} has version ${header.version}; expected ${CHECKPOINT_VERSION}`);
  const dataStart = start + headerLen;
  const total = header.tensors.reduce((s, t) => s + t.length, 0);
  if (buf.length !== dataStart + total * 4) throw new Error(`checkpoint ${file} is truncated`);
  // Copy so the floats are aligned whatever the header length.
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + dataStart, buf.byteOffset + dataStart + total * 4));
  const edge = header.updateEdge;
  const validEdge = edge !== null && typeof edge === 'object' && Number.isFinite(edge.gap) && Number.isInteger(edge.k);
  const solved = header.solvedEvals;
  const state: TrainState & CheckpointExtras = {
    step: header.step,
    params: {},
    m: {},
    v: {},
    ...(validEdge ? { updateEdge: { gap: edge.gap, k: edge.k } } : {}),
    ...(Number.isInteger(solved) && solved! > 0 ? { solvedEvals: solved } : {}),
  };
  for (const t of header.tensors) {
    (state[t.group] as HostParams)[t.name] = { shape: t.shape, data: data.slice(t.offset, t.offset + t.length) };
  }
  return state;
}
