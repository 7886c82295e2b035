// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { RunDetail, RunListItem } from '../core/api.js';
import { PRESETS } from '../core/schema/run-config.js';
import { presetDiff } from '../core/service/preset-diff.js';
import LibraryView from '../renderer/src/views/LibraryView.vue';
import RunView from '../renderer/src/views/RunView.vue';
import { compactNumber } from '../renderer/src/config-values.js';

/**
 * A run's configuration in the renderer (issue 35, item 4): the library's settings columns and
 * study filter, and the run view's configuration table with the fields unlike the preset
 * highlighted. Charts are stubbed (drawn in Chromium by test/e2e-config.test.ts).
 */
const stubs = { EChart: { props: ['option', 'name'], template: '<div class="chart-stub" :data-chart="name" />' } };

function item(over: Partial<RunListItem>): RunListItem {
  return { id: 'r', task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, status: 'completed', backend: 'wasm', origin: 'trained', T_grok: null, T_cross: null, lead: null, stepsDone: 10, steps: 10, tags: [], p: 31, lr: 3e-3, weightDecay: 1, trainFraction: 0.5, study: null, ...over };
}

function detail(config: Record<string, unknown>, over: Partial<RunDetail> = {}): RunDetail {
  return {
    id: 'run-1', status: 'completed', stepsDone: 60, error: null, backend: 'wasm', backendNote: null, origin: 'trained', note: null,
    config, events: null, metrics: [], checkpoints: [], spectra: [], forecast: null,
    // As core computes it for this config, so the view is tested on what it will be given.
    study: null, presetDiff: presetDiff(config), ...over,
  };
}

describe('compact numbers', () => {
  it('writes settings short and without float noise', () => {
    expect([3e-3, 0.003000000001, 1e-8, 0.0025, 0.35, 0.98, 1, 0, 47, 10000, 0.61, 2.5e6].map(compactNumber)).toEqual(['3e-3', '3e-3', '1e-8', '2.5e-3', '0.35', '0.98', '1', '0', '47', '10000', '0.61', '2.5e6']);
  });
});

describe('LibraryView: settings columns and the study filter', () => {
  const runs = [
    item({ id: 'base-a', seed: 1 }),
    item({ id: 'wd0', seed: 2, weightDecay: 0, lr: 0.0025 }),
    item({ id: 'study-1', seed: 3, p: 47, trainFraction: 0.35, study: 'tiny' }),
    item({ id: 'study-2', seed: 4, p: 47, trainFraction: 0.35, study: 'other', lr: 0.0030000000001 }),
    item({ id: 's5', task: 's5', p: null, lr: 1e-2 }),
  ];
  const rowIds = (w: ReturnType<typeof mount>): string[] => w.findAll('tbody tr').map((r) => r.attributes('data-run')!);
  const cell = (w: ReturnType<typeof mount>, run: string, col: string): string => w.find(`tr[data-run="${run}"] td[data-col="${col}"]`).text();

  it('shows p, lr, weight decay, train fraction and study of each run, compactly', () => {
    const w = mount(LibraryView, { props: { runs } });
    const headers = w.findAll('th button.sort').map((b) => b.text());
    expect(headers).toEqual(expect.arrayContaining(['p', 'lr', 'wd', 'train', 'study']));
    expect(w.findAll('th').find((th) => th.text() === 'wd')!.attributes('title')).toBe('weight decay');
    expect(['p', 'lr', 'weightDecay', 'trainFraction', 'study'].map((c) => cell(w, 'wd0', c))).toEqual(['31', '2.5e-3', '0', '0.5', '—']);
    expect(['p', 'lr', 'weightDecay', 'trainFraction', 'study'].map((c) => cell(w, 'study-2', c))).toEqual(['47', '3e-3', '1', '0.35', 'other']);
    expect(cell(w, 's5', 'p')).toBe('—');
  });

  it('filters by study (all studies by default, each present study, runs of none) and sorts by the new columns', async () => {
    const w = mount(LibraryView, { props: { runs } });
    const select = w.find('select[data-field="study-filter"]');
    expect(select.findAll('option').map((o) => o.text())).toEqual(['all studies', 'other', 'tiny', 'in no study']);
    expect(rowIds(w)).toEqual(['base-a', 's5', 'study-1', 'study-2', 'wd0']);
    await select.setValue('tiny');
    expect(rowIds(w)).toEqual(['study-1']);
    expect(w.text()).toContain('1 of 5 runs');
    await select.setValue(select.findAll('option')[3].element.value);
    expect(rowIds(w)).toEqual(['base-a', 's5', 'wd0']);
    await select.setValue('');
    expect(rowIds(w)).toHaveLength(5);
    // Typing a study's name filters too.
    await w.find('input[type=search]').setValue('other');
    expect(rowIds(w)).toEqual(['study-2']);
    await w.find('input[type=search]').setValue('');
    await w.find('button[data-sort="weightDecay"]').trigger('click');
    expect(rowIds(w)[0]).toBe('wd0');
    // Runs of no study sort after the named ones, whichever way.
    await w.find('button[data-sort="study"]').trigger('click');
    expect(rowIds(w).slice(0, 2)).toEqual(['study-2', 'study-1']);
  });

  it('offers no "in no study" choice when every run is in one', () => {
    const w = mount(LibraryView, { props: { runs: [item({ id: 'x', study: 'tiny' })] } });
    expect(w.findAll('select[data-field="study-filter"] option').map((o) => o.text())).toEqual(['all studies', 'tiny']);
  });
});

describe('RunView: the configuration against its preset', () => {
  it('lists every field, highlights those unlike the preset with the preset’s value beside, and says so in the header', async () => {
    const config = { ...PRESETS.fast, seed: 3, weightDecay: 0 };
    const w = mount(RunView, { props: { run: detail(config, { study: 'wd-sweep' }), live: null, theme: 'light' }, global: { stubs } });
    const rows = w.findAll('[data-field="config"] tbody tr');
    expect(rows.map((r) => r.attributes('data-config-field'))).toEqual(Object.keys(config));
    const highlighted = rows.filter((r) => r.classes('differs'));
    expect(highlighted.map((r) => r.findAll('td').map((td) => td.text()))).toEqual([['weightDecay', '0', '1']]);
    // The seed differs from the preset's 0 but is a replicate: shown, not highlighted, no preset value.
    expect(w.find('[data-config-field="seed"]').findAll('td').map((td) => td.text())).toEqual(['seed', '3', '']);
    expect(w.find('[data-config-field="lr"] td:nth-child(2)').text()).toBe('3e-3');
    expect(w.find('[data-field="config"] summary').text()).toContain('1 field unlike preset fast');
    expect(w.find('[data-field="preset-diff"]').text()).toBe('unlike fast: weightDecay 0 (preset 1)');
    expect(w.find('[data-field="study"]').text()).toBe('study wd-sweep');
  });

  it('shows a run like its preset, and a run of no known preset, without a diff', () => {
    const same = mount(RunView, { props: { run: detail({ ...PRESETS.quick, seed: 5 }), live: null, theme: 'light' }, global: { stubs } });
    expect(same.findAll('tr.differs')).toHaveLength(0);
    expect(same.find('[data-field="preset-diff"]').exists()).toBe(false);
    expect(same.find('[data-field="study"]').exists()).toBe(false);
    expect(same.find('[data-field="config"] summary').text()).toContain('as preset quick');
    const external = mount(RunView, { props: { run: detail({ ...PRESETS.reference, preset: 'external' }), live: null, theme: 'light' }, global: { stubs } });
    expect(external.find('[data-field="config"] summary').text()).toContain("preset 'external' is not one this Grokscope defines");
    expect(external.findAll('[data-field="config"] th').map((th) => th.text())).not.toContain('preset external');
    expect(new Set(external.findAll('[data-field="config"] th').map((th) => th.text()))).toEqual(new Set(['field', 'value']));
  });

  it('lists a field the run lacks but its preset has, as missing, highlighted', () => {
    const config: Record<string, unknown> = { ...PRESETS.fast };
    delete config.fourierK;
    const w = mount(RunView, { props: { run: detail(config), live: null, theme: 'light' }, global: { stubs } });
    expect(w.find('tr.differs[data-config-field="fourierK"]').findAll('td').map((td) => td.text())).toEqual(['fourierK', '—', String(PRESETS.fast.fourierK)]);
  });
});
