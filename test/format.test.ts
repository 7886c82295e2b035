import { describe, expect, it } from 'vitest';
import type { EChartsOption } from 'echarts';
import { formatLogTick, formatStep, formatValue } from '../renderer/src/format.js';
import { SLIDER_PX, canLogY, withFormats, withLogY, withZoom } from '../renderer/src/chart-options.js';

/** Significant digits of a printed number (separators, sign and exponent left out). */
function significant(text: string): number {
  const mantissa = text.replace(/[,−-]/g, '').split('e')[0].replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length || 1;
}

describe('formatValue: 4 significant digits', () => {
  it.each([
    [0.1234567891234, '0.1235'],
    [0.30000000000000004, '0.3'],
    [1480, '1,480'],
    [12345.678, '12,350'],
    [-0.987654321, '-0.9877'],
    [1.5, '1.5'],
    [0, '0'],
    [3.2e-7, '3.2e-7'],
    [0.000123456, '0.0001235'],
    [0.0000123456, '1.235e-5'],
    [2_500_000, '2.5e6'],
    [-0.00000001, '-1e-8'],
  ])('%s → %s', (v, text) => {
    expect(formatValue(v)).toBe(text);
  });

  it('never prints more than 4 significant digits over many magnitudes', () => {
    for (let e = -12; e <= 12; e++) {
      for (const m of [1, 1.23456789, 3.14159265, 9.99996, 7.000001]) {
        const text = formatValue(m * 10 ** e);
        expect(significant(text), `${m}e${e} → ${text}`).toBeLessThanOrEqual(4);
        expect(Number(text.replace(/,/g, '')) / (m * 10 ** e)).toBeCloseTo(1, 3);
      }
    }
  });

  it('reads missing values as a dash and formats a point dimension by dimension', () => {
    expect([null, undefined, NaN].map(formatValue)).toEqual(['—', '—', '—']);
    expect(formatValue([1480, 0.123456, 3])).toBe('1,480, 0.1235, 3');
    expect(formatValue('mix')).toBe('mix');
    expect(formatValue(-1e-9 / 1e9)).toBe('-1e-18');
    expect(formatValue(-0.00001 * 0)).toBe('0');
  });
});

describe('formatStep and formatLogTick', () => {
  it('prints steps as whole numbers with separators, never 1,480.00', () => {
    expect(formatStep(1480)).toBe('1,480');
    expect(formatStep(1480.0000001)).toBe('1,480');
    expect(formatStep(12_345_678)).toBe('12,345,678');
    expect(formatStep(-1460)).toBe('-1,460');
    expect(formatStep(0)).toBe('0');
    expect(formatStep(null)).toBe('—');
  });

  it('labels log ticks 1e-8 style outside 0.001 … 10,000 and plainly inside', () => {
    expect(formatLogTick(0.00000001)).toBe('1e-8');
    expect(formatLogTick(1e-5)).toBe('1e-5');
    expect(formatLogTick(2e-7)).toBe('2e-7');
    expect(formatLogTick(0.001)).toBe('0.001');
    expect(formatLogTick(0.1)).toBe('0.1');
    expect(formatLogTick(1)).toBe('1');
    expect(formatLogTick(1000)).toBe('1,000');
    expect(formatLogTick(1e5)).toBe('1e5');
    for (let e = -20; e <= 20; e++) expect(formatLogTick(10 ** e)).not.toMatch(/0{4}/);
  });
});

describe('chart options as EChart.vue draws them', () => {
  const option = (): EChartsOption => ({
    tooltip: { trigger: 'axis' },
    grid: { left: 50, bottom: 35 },
    xAxis: { type: 'value', name: 'step' },
    yAxis: [{ type: 'log' }, { type: 'value', axisLabel: { formatter: '{value} %' } }],
    series: [{ type: 'line', data: [[0, 1], [1480, 0.00000001]] }],
  });
  type Fmt = (v: unknown) => string;

  it('formats step axes, log axes and tooltips, keeping what a view set itself', () => {
    const drawn = withFormats(option(), true);
    const x = drawn.xAxis as { axisLabel: { formatter: Fmt }; axisPointer: { label: { formatter: (p: { value: number }) => string } } };
    expect(x.axisLabel.formatter(1480)).toBe('1,480');
    // The pointer label is the axis tooltip's header: the "1,480.00" of issue 35.
    expect(x.axisPointer.label.formatter({ value: 1480.0001 })).toBe('1,480');
    const [logY, own] = drawn.yAxis as { axisLabel: { formatter: Fmt | string } }[];
    expect((logY.axisLabel.formatter as Fmt)(1e-8)).toBe('1e-8');
    expect(own.axisLabel.formatter).toBe('{value} %');
    expect((drawn.tooltip as { valueFormatter: Fmt }).valueFormatter(0.1234567891)).toBe('0.1235');
    // A view's own tooltip formatter is its own business; the original option is not touched.
    const own2 = withFormats({ ...option(), tooltip: { valueFormatter: (v: unknown) => `${v}!` } }, true);
    expect((own2.tooltip as { valueFormatter: Fmt }).valueFormatter(1)).toBe('1!');
    expect((option().xAxis as Record<string, unknown>).axisLabel).toBeUndefined();
  });

  it('formats a non-step value x axis as values and leaves category axes alone', () => {
    const v = withFormats({ xAxis: { type: 'value' }, yAxis: { type: 'category', data: ['a'] } }, false);
    expect((v.xAxis as { axisLabel: { formatter: Fmt } }).axisLabel.formatter(1480.5)).toBe('1,481');
    expect((v.yAxis as Record<string, unknown>).axisLabel).toBeUndefined();
  });

  it('adds zoom on the step axis with room for its slider, unless the view has its own', () => {
    const z = withZoom(option());
    expect((z.dataZoom as { type: string; xAxisIndex: number }[]).map((d) => [d.type, d.xAxisIndex])).toEqual([['inside', 0], ['slider', 0]]);
    expect((z.grid as { bottom: number }).bottom).toBe(35 + SLIDER_PX);
    const mine = { ...option(), dataZoom: [] };
    expect(withZoom(mine)).toBe(mine);
  });

  it('offers log y only on free value axes, and drops a fixed range when on', () => {
    expect(canLogY({ yAxis: { type: 'value', min: 0, max: 1 } })).toBe(false);
    expect(canLogY({ yAxis: { type: 'log' } })).toBe(false);
    expect(canLogY({ yAxis: { type: 'value', scale: true } })).toBe(true);
    expect(canLogY({ yAxis: { type: 'value', min: 0 } })).toBe(true);
    const y = withLogY({ yAxis: [{ type: 'value', min: 0, scale: true }, { type: 'value', name: 'second' }] }).yAxis as Record<string, unknown>[];
    expect([y[0].type, y[0].min, y[0].scale, y[1].type]).toEqual(['log', undefined, undefined, 'value']);
  });
});
