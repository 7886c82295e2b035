/**
 * Configuration values as the library and the run view write them: short enough for a table
 * column, exact enough to tell settings apart. Settings are written as researchers write
 * hyperparameters (lr 3e-3, weight decay 1, steps 10000), unlike measured values, which format.ts
 * writes for charts (0.003, 10,000). Presentation only: which values exist and how they differ
 * from a preset comes from core.
 */

/**
 * A number compactly: integers as they are (p 47, steps 10000), small and large fractions in
 * e-notation with up to 3 significant digits (lr 3e-3, eps 1e-8, 2.5e-3), others to 4 significant
 * digits (0.35, 0.98). Float noise never shows: 0.003000000001 is 3e-3.
 */
export function compactNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e6)) {
    const [mantissa, exponent] = v.toExponential(2).split('e');
    return `${Number(mantissa)}e${Number(exponent)}`;
  }
  return String(Number(v.toPrecision(4)));
}

/** Any configuration value: numbers compactly, text as it is, null or absent as "—", anything else as JSON. */
export function configValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return compactNumber(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
