import { GrokscopeError } from '../errors.js';

/**
 * The safetensors format (huggingface/safetensors, "Format" in its README): an 8-byte
 * little-endian u64 N, an N-byte JSON header `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {string: string}}`, then the tensors' bytes, little-endian and row-major, at
 * those offsets relative to the end of the header. Offsets must cover the data exactly: no gaps,
 * no overlaps. We write tensors contiguously from 0 in the order given and pad the header with
 * spaces to a multiple of 8 bytes, as the reference writer does, so that data is aligned.
 *
 * Written here (~100 lines) rather than taken from npm: the packages we found either wrap the
 * Rust library natively (a binary download) or read only; a reader that refuses malformed files
 * with one line each is what `grokscope measure` needs (docs/decisions.md).
 */
export type SafeDtype = 'F32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
const DTYPE_BYTES: Record<SafeDtype, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Headers larger than this are refused before parsing (the reference library uses 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafeTensor {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** Raw little-endian bytes, row-major. */
  bytes: Uint8Array;
}

export class SafetensorsError extends GrokscopeError {}

export function f32Tensor(name: string, shape: number[], data: Float32Array): SafeTensor {
  return { name, dtype: 'F32', shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A tensor's values as float32 (F32 as stored; F64 and BOOL converted). */
export function asFloat32(t: SafeTensor): Float32Array {
  if (t.dtype === 'F32') return new Float32Array(t.bytes.slice().buffer);
  if (t.dtype === 'F64') return Float32Array.from(new Float64Array(t.bytes.slice().buffer));
  if (t.dtype === 'BOOL' || t.dtype === 'U8') return Float32Array.from(t.bytes);
  throw new SafetensorsError(`tensor ${t.name}: dtype ${t.dtype} is not read as numbers here (F32, F64, BOOL, U8 are)`);
}

const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export function writeSafetensors(tensors: SafeTensor[], metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.bytes.byteLength !== count(t.shape) * DTYPE_BYTES[t.dtype]) throw new Error(`tensor ${t.name}: ${t.bytes.byteLength} bytes for shape [${t.shape}] of ${t.dtype}`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([len, head, ...tensors.map((t) => Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength))]);
}

/** Parse and check a safetensors file; every problem is one line naming the tensor. */
export function readSafetensors(buf: Buffer): { tensors: SafeTensor[]; metadata: Record<string, string> } {
  if (buf.length < 8) throw new SafetensorsError(`file is ${buf.length} bytes: too short for a safetensors header`);
  const n = buf.readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header of ${n} bytes is over the ${MAX_HEADER_BYTES}-byte limit`);
  if (n > BigInt(buf.length - 8)) throw new SafetensorsError(`header of ${n} bytes runs past the end of the ${buf.length}-byte file`);
  const dataStart = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, dataStart).toString('utf8'));
  } catch (err) {
    throw new SafetensorsError(`header is not JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SafetensorsError('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw new SafetensorsError(`tensor ${name}: entry is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) throw new SafetensorsError(`tensor ${name}: unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`tensor ${name}: shape ${JSON.stringify(e.shape)} is not a list of sizes`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[1] < off[0]) {
      throw new SafetensorsError(`tensor ${name}: data_offsets ${JSON.stringify(off)} are not [begin, end]`);
    }
    const dtype = e.dtype as SafeDtype;
    const shape = e.shape as number[];
    if (off[1] - off[0] !== count(shape) * DTYPE_BYTES[dtype]) {
      throw new SafetensorsError(`tensor ${name}: ${off[1] - off[0]} bytes for shape [${shape}] of ${dtype} (${count(shape) * DTYPE_BYTES[dtype]} expected)`);
    }
    entries.push({ name, dtype, shape, begin: off[0], end: off[1] });
  }
  // The offsets must tile the data area from 0 to its end: no gap, no overlap.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) throw new SafetensorsError(`tensor ${e.name}: data_offsets overlap the tensor before it (begins at ${e.begin}, previous ends at ${at})`);
    if (e.begin > at) throw new SafetensorsError(`tensor ${e.name}: data_offsets leave a gap (begins at ${e.begin}, previous ends at ${at})`);
    at = e.end;
  }
  if (at !== buf.length - dataStart) throw new SafetensorsError(`tensors cover ${at} bytes of data but the file has ${buf.length - dataStart}`);
  const tensors = entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, bytes: new Uint8Array(buf.buffer, buf.byteOffset + dataStart + e.begin, e.end - e.begin) }));
  return { tensors, metadata };
}
