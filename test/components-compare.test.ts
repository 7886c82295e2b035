// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Band, CompareData } from '../core/api.js';
import CompareView from '../renderer/src/views/CompareView.vue';
import { aggregatedCsv, tooltipText } from '../renderer/src/compare-charts.js';

/** The compare view for given data (charts stubbed; test/e2e-compare.test.ts draws them in Chromium). */
const stubs = { EChart: { props: ['option', 'name'], template: '<div class="chart-stub" :data-chart="name" />' } };
const band: Band = { mean: [0, 1], lower: [0, 1], upper: [0, 1], min: [0, 1], max: [0, 1], n: [2, 2] };
const group = (arch: string, condition: string, setting = '', runs = ['a']) => ({ arch, condition, setting, variant: '', label: [condition, setting].filter(Boolean).join(' · '), runs, steps: [0, 10], test_acc: band, train_acc: band, entropy: band, weight_norm: band });
const data: CompareData = {
  probe: 'resid.final',
  probes: ['resid.final', 'embed', 'attn.out'],
  threshold: { value: 0.61, source: 'configured', detail: 'configured (entropyThreshold of all 2 runs)' },
  fittedThresholds: [{ setting: '', task: 'mod-add', arch: 'transformer', value: 0.58, runs: 5 }],
  band: 'minmax',
  smoothing: 0,
  grouping: { available: [], fields: [], pooled: [] },
  groups: [group('transformer', 'baseline'), group('mlp', 'baseline', '', ['b'])],
  necessity: [{ setting: '', arch: 'transformer', n: 5, crossed: 5, grokked: 5, grokkedWithoutCrossingFirst: 1, crossedWithoutGrokking: 0 }],
  interventions: [{ setting: '', variant: '', arch: 'transformer', condition: 'mix', n: 5, nBaseline: 5, censored: 1, delayMean: -1352.4, delayCI: [-2500, -100], p: 0.0741, d: -1.234, manipulation: { assessed: 4, held: 1 } }],
  detection: [
    { task: 'mod-add', signal: 'H̃ resid.final', negativeKind: 'all', positives: 8, negatives: 2, auroc: 0.875, aurocCI: [0.6, 1], threshold: 0.571, falseAlarmRate: 0.5, truePositiveRate: 1, leadMedian: 460, leadAtFpr10: null },
    { task: 'mod-add', signal: 'weight norm / peak', negativeKind: 'wd0', positives: 8, negatives: 0, auroc: null, aurocCI: null, threshold: null, falseAlarmRate: null, truePositiveRate: null, leadMedian: null, leadAtFpr10: null },
  ],
  onset: [{ setting: '', task: 'mod-add', arch: 'transformer', probe: 'resid.final', threshold: 0.61, band: null, n: 5, place: { 'before-onset': 3, 'during-climb': 1, 'after-grokking': 0, 'below-at-mem': 1, none: 0 }, leadRiseMedian: 250, leadGrokMedian: 800, testAccAtCrossMedian: 0.021, chance: 1 / 47 }],
  align: null,
  configDiff: [],
};
const chartOf = (w: ReturnType<typeof mount>, name: string) => w.findAllComponents(stubs.EChart).find((c) => c.props('name') === name)!.props('option') as Record<string, any>;

describe('CompareView', () => {
  it('answers the onset question: where each warning falls in the climb', () => {
    const w = mount(CompareView, { props: { data, theme: 'dark' }, global: { stubs } });
    expect(w.findAll('[data-table=onset] tbody td').map((t) => t.text())).toEqual(['mod-add', 'transformer', '0.610', '5', '3', '1', '0', '1', '0', '250', '800', '0.021 (chance 0.021)']);
  });

  it('puts the architectures side by side and fills the necessity and intervention tables', () => {
    const w = mount(CompareView, { props: { data, theme: 'dark' }, global: { stubs } });
    expect(w.findAll('.column').map((c) => c.attributes('data-arch'))).toEqual(['transformer', 'mlp']);
    expect(w.findAll('[data-table=necessity] tbody td').map((t) => t.text())).toEqual(['transformer', '5', '5', '5', '1', '0']);
    expect(w.findAll('[data-table=interventions] tbody td').map((t) => t.text())).toEqual(['transformer', 'mix', '5 vs 5', '-1352', '-2500 … -100', '0.074', '-1.23', '1', '1/4']);
    expect(w.find('[data-chart=deltas]').exists()).toBe(true);
  });

  it('names the one H̃* in use and its source, draws it, and shows the fitted one as information only', () => {
    const w = mount(CompareView, { props: { data, theme: 'light' }, global: { stubs } });
    expect(w.find('[data-field=threshold]').text()).toContain('H̃* 0.61 — configured (entropyThreshold of all 2 runs)');
    expect(w.find('[data-field=fitted-thresholds]').text()).toContain('mod-add transformer 0.58 (5 runs)');
    const entropy = chartOf(w, 'transformer-entropy');
    expect(entropy.series.at(-1).markLine.data[0].yAxis).toBe(0.61);
  });

  it('shows the detector table, and says why a selection has no AUROC', () => {
    const w = mount(CompareView, { props: { data, theme: 'light' }, global: { stubs } });
    const rows = w.findAll('[data-table=detection] tbody tr').map((r) => r.findAll('td').map((t) => t.text()));
    expect(rows[0]).toEqual(['mod-add', 'H̃ resid.final', 'all', '8 vs 2', '0.88', '0.60 … 1.00', '0.571', '50 %', '100 %', '460', '—']);
    const none = data.detection.map((r) => ({ ...r, negatives: 0, auroc: null, aurocCI: null }));
    expect(mount(CompareView, { props: { data: { ...data, detection: none }, theme: 'light' }, global: { stubs } }).find('[data-field=detection-empty]').exists()).toBe(true);
  });

  it('labels groups by their setting, adds a setting column to the tables, and offers to pool a field', async () => {
    const grouped: CompareData = {
      ...data,
      grouping: { available: ['weightDecay'], fields: ['weightDecay'], pooled: [] },
      groups: [group('transformer', 'baseline', 'weightDecay 0'), group('transformer', 'baseline', 'weightDecay 1')],
      necessity: [
        { setting: 'weightDecay 0', arch: 'transformer', n: 1, crossed: 1, grokked: 0, grokkedWithoutCrossingFirst: 0, crossedWithoutGrokking: 1 },
        { setting: 'weightDecay 1', arch: 'transformer', n: 3, crossed: 3, grokked: 3, grokkedWithoutCrossingFirst: 0, crossedWithoutGrokking: 0 },
      ],
      interventions: [{ ...data.interventions[0], setting: 'weightDecay 1', nBaseline: 3 }],
    };
    const w = mount(CompareView, { props: { data: grouped, theme: 'light' }, global: { stubs } });
    expect(chartOf(w, 'transformer-test-acc').legend.data).toEqual(['baseline · weightDecay 0', 'baseline · weightDecay 1']);
    expect(w.findAll('[data-table=necessity] tbody tr').map((r) => r.find('td').text())).toEqual(['weightDecay 0', 'weightDecay 1']);
    expect(w.find('[data-table=interventions] tbody td').text()).toBe('weightDecay 1');
    await w.find('input[data-group-field=weightDecay]').setValue(false);
    expect(w.emitted('options')!.at(-1)).toEqual([{ probe: 'resid.final', groupBy: [] }]);
    const pooled = mount(CompareView, { props: { data: { ...grouped, grouping: { available: ['weightDecay'], fields: [], pooled: ['weightDecay'] } }, theme: 'light' }, global: { stubs } });
    expect(pooled.find('[data-field=pooled]').text()).toContain('weightDecay');
  });

  it('asks for a band kind, smoothing, a probe and an alignment, keeping the other options', async () => {
    const w = mount(CompareView, { props: { data: { ...data, align: 'T_rise', band: 'sd' }, theme: 'light' }, global: { stubs } });
    expect(w.find('[data-field=band-kind]').text()).toBe('mean ± SD across seeds');
    await w.find('select[data-action=band]').setValue('ci95');
    expect(w.emitted('options')!.at(-1)).toEqual([{ align: 'T_rise', band: 'ci95', probe: 'resid.final' }]);
    await w.find('select[data-action=probe]').setValue('embed');
    expect(w.emitted('options')!.at(-1)).toEqual([{ align: 'T_rise', band: 'sd', probe: 'embed' }]);
    const halfLife = (w.findAll('select[data-action=smoothing] option').map((o) => o.attributes('value')).filter((v) => v !== '0'))[0];
    await w.find('select[data-action=smoothing]').setValue(halfLife);
    expect(w.emitted('options')!.at(-1)).toEqual([{ align: 'T_rise', band: 'sd', probe: 'resid.final', smoothing: Number(halfLife) }]);
    await w.find('select[data-action=align]').setValue('');
    expect(w.emitted('options')!.at(-1)).toEqual([{ band: 'sd', probe: 'resid.final' }]);
  });

  it("asks for every run's own curves, then draws each under the bands, named by run and seed, hoverable", async () => {
    const w = mount(CompareView, { props: { data, theme: 'light' }, global: { stubs } });
    const box = w.find('input[data-action=lines]');
    await box.setValue(true);
    expect(w.emitted('options')!.at(-1)).toEqual([{ lines: true, probe: 'resid.final' }]);
    expect((box.element as HTMLInputElement).checked).toBe(false); // not until the curves arrive
    const line = (v: number) => ({ step: [0, 10], value: [v, v + 0.5] });
    const withLines: CompareData = { ...data, groups: data.groups.map((g) => ({ ...g, lines: g.runs.map((id, i) => ({ id, seed: i + 3, test_acc: line(0.1), entropy: line(0.9), weight_norm: line(20) })) })) };
    await w.setProps({ data: withLines });
    expect((w.find('input[data-action=lines]').element as HTMLInputElement).checked).toBe(true);
    const option = chartOf(w, 'transformer-test-acc');
    expect(option.series[0]).toMatchObject({ name: 'run a · seed 3', datasetIndex: 0, triggerLineEvent: true, emphasis: { focus: 'series' } });
    expect(option.series[0].silent).toBeUndefined();
  });

  it('names the lowest and highest run at the pointer, and writes numbers to 4 significant digits', () => {
    const text = tooltipText([
      { marker: '', seriesName: 'baseline', value: [1480, 0.123456789, 3] },
      { marker: '', seriesName: 'run a · seed 0', value: [1480, 0.2] },
      { marker: '', seriesName: 'run b · seed 1', value: [1480, 0.011111] },
      { marker: '', seriesName: 'run c · seed 2', value: [1480, 0.9] },
    ]);
    expect(text.split('<br>')).toEqual(['step 1,480', 'baseline: 0.1235 (3 runs)', 'lowest: run b · seed 1 0.01111', 'highest: run c · seed 2 0.9']);
  });

  it('draws the weight norm on a log axis on request', async () => {
    const w = mount(CompareView, { props: { data, theme: 'light' }, global: { stubs } });
    expect(chartOf(w, 'transformer-norm').yAxis.type).toBe('value');
    await w.find('input[data-action=log-y]').setValue(true);
    expect(chartOf(w, 'transformer-norm').yAxis.type).toBe('log');
  });

  it('writes the aggregated series as CSV: a row per group and step, mean, band edges and runs covered', () => {
    const csv = aggregatedCsv({ ...data, band: 'se', groups: [{ ...group('transformer', 'baseline', 'lr 0.001, wd'), test_acc: { ...band, lower: [-0.5, 0.5], upper: [0.5, 1.5] } }] });
    const [head, first, second] = csv.trim().split('\n');
    expect(head.split(',').slice(0, 11)).toEqual(['group', 'arch', 'condition', 'variant', 'setting', 'band', 'step', 'test_acc_mean', 'test_acc_lower', 'test_acc_upper', 'test_acc_n']);
    expect(first).toBe('"baseline · lr 0.001, wd",transformer,baseline,,"lr 0.001, wd",se,0,0,-0.5,0.5,2,0,0,0,2,0,0,0,2,0,0,0,2');
    expect(second.split(',').slice(9, 13)).toEqual(['1', '0.5', '1.5', '2']); // two quoted commas before them
  });

  it('asks to align on an event, and names the runs left out for lacking it', async () => {
    const aligned: CompareData = { ...data, align: 'T_grok', groups: data.groups.map((g, i) => ({ ...g, steps: [-10, 0], unaligned: i === 0 ? ['z'] : [] })) };
    const w = mount(CompareView, { props: { data: aligned, theme: 'light' }, global: { stubs } });
    expect((w.find('select[data-action=align]').element as HTMLSelectElement).value).toBe('T_grok');
    expect(w.find('[data-field=unaligned]').text()).toBe('1 run without T_grok left out of the curves: z');
    expect(chartOf(w, 'transformer-test-acc').xAxis).toMatchObject({ name: 'steps from T_grok', min: -10 });
  });
});
