/**
 * The protocol-buffer wire format, as much as TensorBoard's event files need (encoding.md of
 * protobuf's documentation): varints, 64-bit (double), 32-bit (float) and length-delimited fields.
 * Messages are built as byte arrays of their fields in order; `decodeMessage` reads any message
 * back into its fields by number, for our tests and readers. Written here rather than with
 * protobufjs: six small messages, no .proto compilation step (docs/decisions.md).
 */
function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const key = (field: number, wire: number): number[] => varint((field << 3) | wire);

export type Field = Uint8Array;

export const pb = {
  varint: (field: number, value: number | bigint): Field => Uint8Array.from([...key(field, 0), ...varint(value)]),
  double: (field: number, value: number): Field => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    return Uint8Array.from([...key(field, 1), ...b]);
  },
  float: (field: number, value: number): Field => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    return Uint8Array.from([...key(field, 5), ...b]);
  },
  bytes: (field: number, value: Uint8Array): Field => Buffer.concat([Uint8Array.from([...key(field, 2), ...varint(value.length)]), value]),
  string: (field: number, value: string): Field => pb.bytes(field, Buffer.from(value, 'utf8')),
  message: (field: number, ...fields: Field[]): Field => pb.bytes(field, Buffer.concat(fields)),
};

export function concat(...fields: Field[]): Uint8Array {
  return Buffer.concat(fields);
}

/** A decoded field: varints as bigint, fixed 64/32-bit as raw bytes, length-delimited as bytes. */
export interface DecodedField {
  field: number;
  wire: 0 | 1 | 2 | 5;
  value: bigint | Uint8Array;
}

export function decodeMessage(buf: Uint8Array): DecodedField[] {
  const out: DecodedField[] = [];
  let i = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (i >= buf.length) throw new Error('protobuf: varint runs past the end');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      if (shift > 63n) throw new Error('protobuf: varint too long');
    }
  };
  while (i < buf.length) {
    const k = Number(readVarint());
    const field = k >> 3;
    const wire = k & 7;
    if (wire === 0) out.push({ field, wire, value: readVarint() });
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (i + n > buf.length) throw new Error('protobuf: fixed field runs past the end');
      out.push({ field, wire, value: buf.subarray(i, i + n) });
      i += n;
    } else if (wire === 2) {
      const n = Number(readVarint());
      if (i + n > buf.length) throw new Error('protobuf: length-delimited field runs past the end');
      out.push({ field, wire, value: buf.subarray(i, i + n) });
      i += n;
    } else throw new Error(`protobuf: wire type ${wire} is not used here`);
  }
  return out;
}
