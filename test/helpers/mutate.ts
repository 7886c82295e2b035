import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Random damage to a file, for fuzzing importers: bit flips, truncation, zeroed or repeated
 * ranges, inserted garbage, and 32-bit fields set to extreme values (the sizes and offsets of
 * zip headers). `rand` is a seeded generator in [0, 1).
 */
export function mutateBytes(good: Buffer, rand: () => number): Buffer {
  const buf = Buffer.from(good);
  const at = (n = buf.length) => Math.floor(rand() * n);
  switch (at(7)) {
    case 0: {
      const flips = 1 + at(8);
      for (let i = 0; i < flips; i++) buf[at()] ^= 1 << at(8);
      return buf;
    }
    case 1:
      return buf.subarray(0, at());
    case 2: {
      const start = at();
      buf.fill(0, start, Math.min(buf.length, start + 1 + at(256)));
      return buf;
    }
    case 3: {
      const start = at();
      const chunk = buf.subarray(start, Math.min(buf.length, start + 1 + at(512)));
      const where = at();
      return Buffer.concat([buf.subarray(0, where), chunk, buf.subarray(where)]);
    }
    case 4: {
      const where = at();
      const junk = Buffer.from(Array.from({ length: 1 + at(64) }, () => at(256)));
      return Buffer.concat([buf.subarray(0, where), junk, buf.subarray(where)]);
    }
    case 5: {
      // A 32-bit field (size, offset, count) set to an extreme value, near a header signature.
      const sigs = [0x04034b50, 0x02014b50, 0x06054b50];
      const hits: number[] = [];
      for (let i = 0; i + 4 <= buf.length; i++) if (sigs.includes(buf.readUInt32LE(i))) hits.push(i);
      const base = hits.length ? hits[at(hits.length)] : 0;
      const off = Math.min(buf.length - 4, base + 4 * (1 + at(10)));
      buf.writeUInt32LE([0xffffffff, 0x7fffffff, 0, 1, at(2 ** 32)][at(5)], Math.max(0, off));
      return buf;
    }
    default: {
      // Swap two ranges (reordered data with valid-looking bytes).
      const a = at();
      const b = at();
      const n = Math.min(1 + at(128), buf.length - Math.max(a, b));
      const tmp = Buffer.from(buf.subarray(a, a + n));
      buf.copy(buf, a, b, b + n);
      tmp.copy(buf, b);
      return buf;
    }
  }
}

/**
 * Copies of a library folder, each with 8 bytes of its database flipped (XOR 0xa5) at one of
 * `places` offsets spread evenly over the file: `{dir, at}` per copy, in order of offset.
 */
export function damagedLibraryCopies(good: string, under: string, places: number, dbPath: (dir: string) => string): { dir: string; at: number }[] {
  const size = statSync(dbPath(good)).size;
  return Array.from({ length: places }, (_, k) => {
    const dir = path.join(under, `flip-${k}`);
    cpSync(good, dir, { recursive: true });
    const file = dbPath(dir);
    const bytes = readFileSync(file);
    const at = Math.floor(((k + 0.5) / places) * (size - 8));
    for (let i = 0; i < 8; i++) bytes[at + i] ^= 0xa5;
    writeFileSync(file, bytes);
    return { dir, at };
  });
}
