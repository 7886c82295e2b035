import { concat, decodeMessage, pb, type DecodedField, type Field } from './protobuf.js';

/**
 * TensorBoard event files (`events.out.tfevents.*`): TFRecord framing — u64 length (LE), masked
 * CRC32C of those 8 bytes, the data, masked CRC32C of the data — around `Event` messages
 * (tensorflow/core/util/event.proto: wall_time 1, step 2, file_version 3, summary 5; summary.proto:
 * Summary.value 1, Value.tag 1, simple_value 2, tensor 8, metadata 9; SummaryMetadata.plugin_data 1
 * {plugin_name 1, content 2}; TensorProto dtype 1, tensor_shape 2, float_val 5, string_val 8).
 * The first event of a file carries file_version "brain.Event:2". Text goes through the text
 * plugin (a DT_STRING scalar tensor); a run's config through the HParams plugin's
 * SessionStartInfo (tensorboard/plugins/hparams/plugin_data.proto: hparams 1, as a map of
 * google.protobuf.Value — number 2, string 3, bool 4) and its end through SessionEndInfo.
 */

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant (so CRCs of CRCs stay strong). */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export function frameRecord(data: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const lenCrc = Buffer.alloc(4);
  lenCrc.writeUInt32LE(maskedCrc32c(len));
  const dataCrc = Buffer.alloc(4);
  dataCrc.writeUInt32LE(maskedCrc32c(data));
  return Buffer.concat([len, lenCrc, data, dataCrc]);
}

/** The records of a TFRecord file, with both CRCs of each checked. */
export function readRecords(buf: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 12 > buf.length) throw new Error(`record at byte ${i}: truncated length`);
    const len = buf.subarray(i, i + 8);
    if (buf.readUInt32LE(i + 8) !== maskedCrc32c(len)) throw new Error(`record at byte ${i}: length CRC mismatch`);
    const n = Number(buf.readBigUInt64LE(i));
    if (i + 12 + n + 4 > buf.length) throw new Error(`record at byte ${i}: truncated data`);
    const data = buf.subarray(i + 12, i + 12 + n);
    if (buf.readUInt32LE(i + 12 + n) !== maskedCrc32c(data)) throw new Error(`record at byte ${i}: data CRC mismatch`);
    out.push(data);
    i += 12 + n + 4;
  }
  return out;
}

export type HParam = number | string | boolean;

const event = (wallTime: number, step: number, ...fields: Field[]): Uint8Array => concat(pb.double(1, wallTime), pb.varint(2, step), ...fields);
const pluginMetadata = (name: string, content: Uint8Array = new Uint8Array()): Field => pb.message(9, pb.message(1, pb.string(1, name), pb.bytes(2, content)));

export const events = {
  fileVersion: (wallTime: number): Uint8Array => concat(pb.double(1, wallTime), pb.string(3, 'brain.Event:2')),
  /** One Summary of scalar values at a step. */
  scalars: (wallTime: number, step: number, values: [tag: string, value: number][]): Uint8Array =>
    event(wallTime, step, pb.message(5, ...values.map(([tag, v]) => pb.message(1, pb.string(1, tag), pb.float(2, v))))),
  /** Text for the text plugin: a DT_STRING (7) scalar tensor. */
  text: (wallTime: number, step: number, tag: string, text: string): Uint8Array =>
    event(wallTime, step, pb.message(5, pb.message(1, pb.string(1, tag), pluginMetadata('text'), pb.message(8, pb.varint(1, 7), pb.message(2), pb.string(8, text))))),
  /** HParams SessionStartInfo (plugin data version 0), with a DT_FLOAT (1) placeholder tensor. */
  sessionStart: (wallTime: number, hparams: Record<string, HParam>, startSecs: number): Uint8Array => {
    const value = (v: HParam): Field => (typeof v === 'number' ? pb.double(2, v) : typeof v === 'string' ? pb.string(3, v) : pb.varint(4, v ? 1 : 0));
    const info = concat(...Object.entries(hparams).map(([k, v]) => pb.message(1, pb.string(1, k), pb.message(2, value(v)))), pb.double(5, startSecs));
    const content = concat(pb.varint(1, 0), pb.message(3, info));
    return event(wallTime, 0, pb.message(5, pb.message(1, pb.string(1, '_hparams_/session_start_info'), pluginMetadata('hparams', content), pb.message(8, pb.varint(1, 1), pb.message(2), pb.float(5, 0)))));
  },
  /** HParams SessionEndInfo: status 1 success, 2 failure, 3 running, 0 unknown. */
  sessionEnd: (wallTime: number, step: number, status: 0 | 1 | 2 | 3, endSecs: number): Uint8Array => {
    const content = concat(pb.varint(1, 0), pb.message(4, pb.varint(1, status), pb.double(2, endSecs)));
    return event(wallTime, step, pb.message(5, pb.message(1, pb.string(1, '_hparams_/session_end_info'), pluginMetadata('hparams', content), pb.message(8, pb.varint(1, 1), pb.message(2), pb.float(5, 0)))));
  },
};

/** What our reader makes of an Event (tests; enough to check every value we write). */
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion: string | null;
  values: { tag: string; plugin: string | null; pluginContent: Uint8Array | null; simpleValue: number | null; text: string | null }[];
}

const one = (fields: DecodedField[], n: number): DecodedField | undefined => fields.find((f) => f.field === n);
const bytesOf = (f: DecodedField | undefined): Uint8Array | null => (f && f.value instanceof Uint8Array ? f.value : null);
const str = (f: DecodedField | undefined): string | null => (bytesOf(f) ? Buffer.from(bytesOf(f)!).toString('utf8') : null);

export function decodeEvent(data: Uint8Array): DecodedEvent {
  const f = decodeMessage(data);
  const wt = bytesOf(one(f, 1));
  const step = one(f, 2);
  const summary = bytesOf(one(f, 5));
  const values = summary
    ? decodeMessage(summary)
        .filter((v) => v.field === 1)
        .map((v) => {
          const vf = decodeMessage(v.value as Uint8Array);
          const meta = bytesOf(one(vf, 9));
          const plugin = meta ? bytesOf(one(decodeMessage(meta), 1)) : null;
          const pluginFields = plugin ? decodeMessage(plugin) : null;
          const simple = bytesOf(one(vf, 2));
          const tensor = bytesOf(one(vf, 8));
          const dtype = tensor ? one(decodeMessage(tensor), 1) : undefined;
          return {
            tag: str(one(vf, 1)) ?? '',
            plugin: pluginFields ? str(one(pluginFields, 1)) : null,
            pluginContent: pluginFields ? bytesOf(one(pluginFields, 2)) ?? new Uint8Array() : null,
            simpleValue: simple ? Buffer.from(simple).readFloatLE(0) : null,
            text: tensor && dtype?.value === 7n ? str(one(decodeMessage(tensor), 8)) : null,
          };
        })
    : [];
  return { wallTime: wt ? Buffer.from(wt).readDoubleLE(0) : 0, step: step ? Number(step.value) : 0, fileVersion: str(one(f, 3)), values };
}
