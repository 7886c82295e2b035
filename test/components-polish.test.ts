// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import type { EChartsOption } from 'echarts';

/**
 * EChart.vue's opt-in props (logY, group) and what it adds to every option, with ECharts replaced
 * by a recorder: which option reaches setOption, which group a chart joins. Drawing itself is
 * checked in Chromium (test/e2e-polish.test.ts).
 */
interface FakeChart {
  group: string;
  options: EChartsOption[];
}
const charts: FakeChart[] = [];
const connected: string[] = [];
vi.mock('echarts', () => ({
  init: () => {
    const c = { group: '', options: [] as EChartsOption[], setOption(o: EChartsOption) { this.options.push(o); }, on() {}, dispose() {}, resize() {}, dispatchAction() {}, getOption: () => ({}) };
    charts.push(c);
    return c;
  },
  connect: (g: string) => connected.push(g),
}));
const { default: EChart } = await import('../renderer/src/components/EChart.vue');

const last = (c: FakeChart): EChartsOption => c.options[c.options.length - 1];
const norm = (): EChartsOption => ({
  tooltip: { trigger: 'axis' },
  grid: { bottom: 35 },
  xAxis: { type: 'value', name: 'step' },
  yAxis: { type: 'value', scale: true },
  series: [{ type: 'line', name: 'norm', data: [[0, 10.123456789], [1480, 41.98765432]] }],
});

beforeEach(() => {
  charts.length = 0;
  connected.length = 0;
  localStorage.clear();
});

describe('EChart: log y, linked cursors, formats and zoom', () => {
  it('offers "log y" when asked, draws the first y axis logarithmic when ticked, and remembers it', async () => {
    const w = mount(EChart, { props: { option: norm(), theme: 'light', name: 'transformer-norm', stepView: 'compare', logY: true } });
    const box = w.find('input[data-action=log-y]');
    expect(box.exists()).toBe(true);
    expect((last(charts[0]).yAxis as { type: string }).type).toBe('value');
    await box.setValue(true);
    expect((last(charts[0]).yAxis as { type: string; scale?: boolean }).type).toBe('log');
    expect((last(charts[0]).yAxis as { scale?: boolean }).scale).toBeUndefined();
    expect(w.find('[data-chart=transformer-norm]').attributes('data-y-axis')).toBe('log');
    expect(localStorage.getItem('grokscope.logY.compare.transformer-norm')).toBe('1');
    // A second mount of the same chart starts where the user left it.
    const again = mount(EChart, { props: { option: norm(), theme: 'light', name: 'transformer-norm', stepView: 'compare', logY: true } });
    expect((last(charts[1]).yAxis as { type: string }).type).toBe('log');
    again.unmount();
    w.unmount();
  });

  it('offers no "log y" without the prop, nor on an axis pinned to [0, 1]', () => {
    const plain = mount(EChart, { props: { option: norm(), theme: 'light', name: 'a', stepView: 'compare' } });
    expect(plain.find('input[data-action=log-y]').exists()).toBe(false);
    const pinned = mount(EChart, { props: { option: { ...norm(), yAxis: { type: 'value', min: 0, max: 1 } }, theme: 'light', name: 'b', stepView: 'compare', logY: true } });
    expect(pinned.find('input[data-action=log-y]').exists()).toBe(false);
  });

  it('connects the charts of one group, and only those', () => {
    mount(EChart, { props: { option: norm(), theme: 'light', name: 'x1', group: 'compare-transformer' } });
    mount(EChart, { props: { option: norm(), theme: 'light', name: 'x2', group: 'compare-transformer' } });
    mount(EChart, { props: { option: norm(), theme: 'light', name: 'x3' } });
    expect(charts.map((c) => c.group)).toEqual(['compare-transformer', 'compare-transformer', '']);
    expect(new Set(connected)).toEqual(new Set(['compare-transformer']));
  });

  it('draws step charts with step formats and zoom, other charts without zoom', () => {
    mount(EChart, { props: { option: norm(), theme: 'light', name: 's', stepView: 'run' } });
    mount(EChart, { props: { option: norm(), theme: 'light', name: 'f' } });
    const [step, other] = charts.map(last);
    const x = step.xAxis as { axisLabel: { formatter: (v: number) => string } };
    expect(x.axisLabel.formatter(1480)).toBe('1,480');
    expect((step.tooltip as { valueFormatter: (v: number) => string }).valueFormatter(41.98765432)).toBe('41.99');
    expect((step.dataZoom as { type: string }[]).map((d) => d.type)).toEqual(['inside', 'slider']);
    expect(other.dataZoom).toBeUndefined();
  });

  it('prints its table as the tooltips do: whole steps, 4 significant digits', async () => {
    const w = mount(EChart, { props: { option: norm(), theme: 'light', name: 'norm', stepView: 'run' } });
    await w.find('button[data-action=chart-table]').trigger('click');
    expect(w.findAll('tbody tr').map((r) => r.findAll('td').map((d) => d.text()))).toEqual([
      ['0', '10.12'],
      ['1,480', '41.99'],
    ]);
  });
});
