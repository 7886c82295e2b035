/**
 * How the workbench prints numbers in charts: what a researcher reads off a tooltip or an axis,
 * not the double a computation left (issue 35: tooltips printed 16 digits, steps "1,480.00", the
 * loss axis "0.00000001"). Pure functions (unit-tested in test/format.test.ts); EChart.vue applies
 * them to every chart that did not choose its own (chart-options.ts, withFormats).
 */

/** Significant digits of a measured value: enough to tell runs apart, short enough to read. */
export const SIGNIFICANT = 4;

const plain = new Intl.NumberFormat('en-US', { maximumSignificantDigits: SIGNIFICANT });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Below this or from EXP_HIGH on, a value is written as 1.235e-5 (no run of zeros to count). */
const EXP_LOW = 1e-4;
const EXP_HIGH = 1e6;

/** `v` in exponent form with at most `digits` significant digits and no trailing zeros: 1e-8, 2.5e+7 → 2.5e7. */
function exponent(v: number, digits: number): string {
  const [mantissa, exp] = v.toExponential(digits - 1).split('e');
  const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return `${m}e${Number(exp)}`;
}

/**
 * A measured value: 4 significant digits, thousands separators, no trailing zeros (0.1235,
 * 1,480, 12,350, 1.5); exponent form below 1e-4 and from 1e6 (3.2e-7). Arrays (ECharts hands a
 * tooltip several dimensions of a point at once) are formatted item by item; null, undefined and
 * NaN read "—", strings pass through.
 */
export function formatValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(formatValue).join(', ');
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < EXP_LOW || a >= EXP_HIGH)) return exponent(v, SIGNIFICANT);
  // Rounded first, so -0.00001 rounded to 0 is not printed "-0".
  const r = Number(v.toPrecision(SIGNIFICANT));
  return plain.format(r === 0 ? 0 : r);
}

/** A step: a whole number with thousands separators (1,480), never "1,480.00". */
export function formatStep(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined || typeof v === 'number' ? '—' : String(v);
  const r = Math.round(v);
  return integer.format(r === 0 ? 0 : r);
}

/**
 * A tick of a logarithmic axis: written plainly from 0.001 to below 10,000 (0.01, 1, 1,000), in
 * exponent form outside (1e-8, 1e5, 2e-7), the way papers label loss axes.
 */
export function formatLogTick(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v) || v === 0) return formatValue(v);
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? formatValue(v) : exponent(v, SIGNIFICANT);
}
