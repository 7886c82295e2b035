// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import type { CompareData, GrokscopeApi, RunDetail, RunListItem, RunRequest } from '../core/api.js';
import { PRESETS } from '../core/schema/run-config.js';
import { GrokscopeService } from '../core/service/service.js';
import LibraryView from '../renderer/src/views/LibraryView.vue';
import RunView from '../renderer/src/views/RunView.vue';
import LaunchView from '../renderer/src/views/LaunchView.vue';
import App from '../renderer/src/App.vue';

/**
 * Component tests of the renderer's views, in happy-dom with the charts stubbed (drawing is
 * ECharts' job and is exercised in real Chromium by test/e2e.test.ts): what each view shows for
 * given data, and what it asks its host to do when used.
 */
const stubs = { EChart: { props: ['option', 'name'], template: '<div class="chart-stub" :data-chart="name" />' } };

function item(over: Partial<RunListItem>): RunListItem {
  return { id: 'r', task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, status: 'completed', backend: 'wasm', origin: 'trained', T_grok: null, T_cross: null, lead: null, stepsDone: 10, steps: 10, tags: [], p: 31, lr: 3e-3, weightDecay: 1, trainFraction: 0.5, study: null, ...over };
}

describe('LibraryView', () => {
  const runs = [
    item({ id: 'a', seed: 2, T_grok: 900, tags: ['sweep-1'] }),
    item({ id: 'b', arch: 'mlp', seed: 0, T_grok: null, status: 'stopped' }),
    item({ id: 'c', seed: 1, T_grok: 400 }),
  ];
  const rowIds = (w: ReturnType<typeof mount>): string[] => w.findAll('tbody tr').map((r) => r.attributes('data-run')!);

  it('filters by any column and by tag, and sorts by a column both ways (missing values last)', async () => {
    const w = mount(LibraryView, { props: { runs } });
    expect(rowIds(w)).toEqual(['a', 'b', 'c']);
    await w.find('input[type=search]').setValue('mlp');
    expect(rowIds(w)).toEqual(['b']);
    await w.find('input[type=search]').setValue('sweep-1');
    expect(rowIds(w)).toEqual(['a']);
    await w.find('input[type=search]').setValue('');
    const header = w.findAll('th button.sort').find((b) => b.text().startsWith('T_grok'))!;
    await header.trigger('click');
    expect(rowIds(w)).toEqual(['c', 'a', 'b']);
    expect(w.findAll('th').find((th) => th.text().startsWith('T_grok'))!.attributes('aria-sort')).toBe('ascending');
    await header.trigger('click');
    expect(rowIds(w)).toEqual(['b', 'a', 'c']);
  });

  it('reports the selection, and asks to compare, tag, export or delete exactly the selected runs', async () => {
    const w = mount(LibraryView, { props: { runs } });
    const compare = w.find('[data-action=compare]');
    expect(compare.attributes('disabled')).toBeDefined();
    await w.find('[data-run=a] input[type=checkbox]').setValue(true);
    await w.find('[data-run=c] input[type=checkbox]').setValue(true);
    expect(w.emitted('selection')!.at(-1)).toEqual([['a', 'c']]);
    await compare.trigger('click');
    expect(w.emitted('compare')).toEqual([[['a', 'c']]]);
    await w.find('input.tag-input').setValue('good, seed-check');
    await w.find('[data-action=tag]').trigger('click');
    expect(w.emitted('tag')).toEqual([[['a', 'c'], ['good', 'seed-check'], []]]);
    await w.find('[data-action=export]').trigger('click');
    expect(w.emitted('export')).toEqual([[['a', 'c']]]);
    await w.find('button.danger').trigger('click');
    expect(w.emitted('remove')).toEqual([[['a', 'c']]]);
    expect(w.emitted('selection')!.at(-1)).toEqual([[]]);
  });

  it('restores a selection kept by the host', () => {
    const w = mount(LibraryView, { props: { runs, initialSelection: ['b'] } });
    expect((w.find('[data-run=b] input[type=checkbox]').element as HTMLInputElement).checked).toBe(true);
    expect(w.find('[data-action=compare]').text()).toBe('compare 1');
  });
});

function detail(over: Partial<RunDetail>): RunDetail {
  return {
    id: 'run-1', status: 'completed', backend: 'wasm+openblas', backendNote: 'auto: …', origin: 'trained', note: null,
    config: { entropyThreshold: 0.61, probe: 'resid.final' },
    events: { T_mem: 100, T_rise: 250, T_loss_peak: 350, T_grok_50: 400, T_grok: 500, T_grok_99: null, T_cross: 300, lead: 200, lead_rise: -50, lead_loss_peak: 50, lead_grok_50: 100, test_acc_at_cross: 0.2346, below_at_mem: false },
    metrics: [0, 100, 200].map((step) => ({ step, train_acc: step / 200, test_acc: 0, train_loss: 1, test_loss: 2, weight_norm: 30, entropy: { 'resid.final': 0.9 - step / 1000 } })),
    checkpoints: [], spectra: [], forecast: null, study: null, presetDiff: null, ...over,
  };
}

describe('RunView', () => {
  it('shows the events, the backend and one chart per curve', () => {
    const w = mount(RunView, { props: { run: detail({}), live: null, theme: 'light' }, global: { stubs } });
    expect(w.find('[data-field=events]').text()).toBe('T_mem 100 · T_rise 250 · T_loss_peak 350 · T_grok_50 400 · T_grok 500');
    expect(w.find('[data-field=warning]').text()).toBe('T_cross 300 · lead vs T_rise -50, vs T_grok 200 · test acc at T_cross 0.235');
    expect(w.text()).toContain('backend wasm+openblas');
    expect(w.findAll('.chart-stub').map((c) => c.attributes('data-chart'))).toEqual(['accuracy', 'entropy', 'loss', 'weight-norm', 'spectrum']);
    expect(w.find('[data-field=forecast]').text()).toContain('needs at least two other completed baseline runs');
    expect(w.find('[data-field=anti-grokking]').exists()).toBe(false);
  });

  it('marks the onset markers beside T_mem and T_cross (T_loss_peak on the loss chart), and says when H̃ was below H̃* at memorisation', () => {
    type Marks = { series: { markLine?: { data: { name?: string; xAxis?: number; label: { position?: string } }[] } }[] };
    const option = (w: ReturnType<typeof mount>, name: string) => w.findAllComponents(stubs.EChart).find((c) => c.props('name') === name)!.props('option') as Marks;
    const marks = (o: Marks) => o.series.flatMap((s) => s.markLine?.data ?? []).filter((d) => d.xAxis !== undefined).map((d) => [d.name, d.xAxis]);
    const w = mount(RunView, { props: { run: detail({}), live: null, theme: 'light' }, global: { stubs } });
    const onChart = [['T_mem', 100], ['T_rise', 250], ['T_cross', 300], ['T_grok_50', 400], ['T_grok', 500]];
    expect(marks(option(w, 'accuracy'))).toEqual(onChart);
    expect(marks(option(w, 'entropy'))).toEqual(onChart);
    expect(marks(option(w, 'loss'))).toEqual([['T_loss_peak', 350]]);
    // The onset markers' labels run inside the plot, one at the top and one at the bottom, away from the others above it.
    const labels = option(w, 'accuracy').series[0].markLine!.data.map((d) => d.label.position ?? 'end');
    expect(new Set(labels)).toEqual(new Set(['end', 'insideStartTop', 'insideEndTop']));
    const below = mount(RunView, {
      props: { run: detail({ events: { T_mem: 100, T_rise: null, T_loss_peak: null, T_grok_50: null, T_grok: null, T_grok_99: null, T_cross: null, lead: null, lead_rise: null, test_acc_at_cross: null, below_at_mem: true } }), live: null, theme: 'light' },
      global: { stubs },
    });
    expect(below.find('[data-field=warning]').text()).toBe('T_cross — (below H̃* 0.61 at memorisation) · lead vs T_rise —, vs T_grok — · test acc at T_cross —');
    expect(marks(option(below, 'accuracy'))).toEqual([['T_mem', 100]]);
    expect(option(below, 'loss').series.some((s) => s.markLine)).toBe(false);
  });

  it('draws the logit scale and the weight spectra when the run recorded them', () => {
    const metrics = [0, 100, 200].map((step) => ({ step, train_acc: 1, test_acc: 0, train_loss: 1, test_loss: 2, weight_norm: 30, entropy: { 'resid.final': 0.9 }, scalars: { logit_scale: 1 + step / 100, max_softmax: 0.5, ...(step === 100 ? { 'alpha/W_in': 3.5, 'traps/W_in': 2, 'traps/W_U': 1 } : {}) } }));
    const w = mount(RunView, { props: { run: detail({ metrics }), live: null, theme: 'light' }, global: { stubs } });
    expect(w.findAll('.chart-stub').map((c) => c.attributes('data-chart'))).toEqual(['accuracy', 'entropy', 'loss', 'weight-norm', 'logit-scale', 'weight-spectra', 'spectrum']);
    const option = (name: string) => w.findAllComponents(stubs.EChart).find((c) => c.props('name') === name)!.props('option') as { series: { name: string; data: number[][] }[] };
    expect(option('logit-scale').series[0].data).toEqual([[0, 1], [100, 2], [200, 3]]);
    expect(option('weight-spectra').series.map((s) => [s.name, s.data])).toEqual([['W_in', [[100, 3.5]]], ['traps (all matrices)', [[100, 3]]]]);
  });

  it('draws Nanda’s panel and the logit-frequency heatmap when the run recorded progress measures, and colours heatmaps by their own range', () => {
    const metrics = [0, 100, 200].map((step) => ({
      step, train_acc: 1, test_acc: step / 200, train_loss: 0.1, test_loss: 3 - step / 100, weight_norm: 30, entropy: { 'resid.final': 0.9 },
      scalars: {
        'progress/restricted_loss': 2 - step / 200, 'progress/excluded_loss': 0.1 + step / 1000, 'progress/logit_power/1': 0.1, 'progress/logit_power/2': step / 400, 'progress/logit_power/3': 0.05,
        // The final key frequencies' losses exist only at the run's snapshots (here steps 0 and 200).
        ...(step !== 100 ? { 'progress_final/restricted_loss': 2.5 - step / 200, 'progress_final/excluded_loss': 0.2 } : {}),
      },
    }));
    const spectra = [0, 100].map((step) => ({ step, probe: 'resid.final', eigenvalues: [8, 1, 1e-9, 1e-20] }));
    const w = mount(RunView, { props: { run: detail({ metrics, spectra }), live: null, theme: 'light' }, global: { stubs } });
    expect(w.findAll('.chart-stub').map((c) => c.attributes('data-chart'))).toEqual(['accuracy', 'entropy', 'loss', 'weight-norm', 'progress-losses', 'spectrum', 'logit-power']);
    type Opt = { series: { name: string; data: number[][] }[]; visualMap: { min: number; max: number; inRange: { color: string[] } }; yAxis: { type: string } };
    const option = (name: string) => w.findAllComponents(stubs.EChart).find((c) => c.props('name') === name)!.props('option') as Opt;
    const panel = option('progress-losses');
    expect(panel.yAxis.type).toBe('log');
    expect(panel.series.map((s) => s.name)).toEqual(['train', 'test', 'restricted (test pairs)', 'excluded (training pairs)', 'restricted, final K', 'excluded, final K']);
    expect(panel.series[2].data).toEqual([[0, 2], [100, 1.5], [200, 1]]);
    expect(panel.series[4].data).toEqual([[0, 2.5], [200, 1.5]]);
    const heat = option('logit-power');
    expect(heat.series[0].data).toContainEqual([2, 1, 0.5]); // step index 2, frequency 2, its share
    expect(heat.visualMap.max).toBe(0.5);
    expect(heat.visualMap.inRange.color.length).toBeGreaterThan(2);
    // The spectrum's colours span its values (not a fixed −6…0 that one vanishing eigenvalue flattens).
    const spectrum = option('spectrum');
    expect(spectrum.visualMap.max).toBeCloseTo(Math.log10(8 / 9), 6);
    expect(spectrum.visualMap.min).toBeLessThan(spectrum.visualMap.max);
  });

  it('alerts when the run is anti-grokking', () => {
    const w = mount(RunView, { props: { run: detail({ events: { T_mem: 100, T_cross: 300, T_grok: 500, lead: 200, T_anti: 900 } }), live: null, theme: 'light' }, global: { stubs } });
    const alert = w.find('[data-field=anti-grokking]');
    expect(alert.attributes('role')).toBe('alert');
    expect(alert.text()).toBe('anti-grokking: test accuracy fell back after grokking, from step 900');
  });

  it('offers stop while training, and resume for a stopped or failed run but not an external one', async () => {
    const live = { type: 'run-progress' as const, id: 'run-1', step: 150, totalSteps: 1000, stepsPerSecond: 50, etaSeconds: 17, backend: 'wasm', latest: null };
    const running = mount(RunView, { props: { run: detail({ status: 'running' }), live, theme: 'light' }, global: { stubs } });
    expect(running.find('[data-action=resume]').exists()).toBe(false);
    expect(running.find('[data-field=progress]').text()).toBe('step 150/1000 · 50.0 steps/s · ETA 17 s');
    await running.find('[data-action=stop]').trigger('click');
    expect(running.emitted('stop')).toEqual([['run-1']]);
    for (const status of ['stopped', 'failed']) {
      const w = mount(RunView, { props: { run: detail({ status }), live: null, theme: 'light' }, global: { stubs } });
      expect(w.find('[data-action=stop]').exists()).toBe(false);
      await w.find('[data-action=resume]').trigger('click');
      expect(w.emitted('resume')).toEqual([['run-1']]);
    }
    const external = mount(RunView, { props: { run: detail({ status: 'stopped', origin: 'external' }), live: null, theme: 'light' }, global: { stubs } });
    expect(external.find('[data-action=resume]').exists()).toBe(false);
    const done = mount(RunView, { props: { run: detail({}), live: null, theme: 'light' }, global: { stubs } });
    expect(done.find('[data-action=resume]').exists()).toBe(false);
  });

  it('exports the model at the latest checkpoint or a chosen one, and offers nothing without checkpoints', async () => {
    expect(mount(RunView, { props: { run: detail({}), live: null, theme: 'light' }, global: { stubs } }).find('[data-action=model]').exists()).toBe(false);
    const w = mount(RunView, { props: { run: detail({ checkpoints: [100, 200], config: { arch: 'transformer', entropyThreshold: 0.61, probe: 'resid.final' } }), live: null, theme: 'light' }, global: { stubs } });
    expect(w.findAll('[data-field=checkpoint] option').map((o) => o.text())).toEqual(['latest (step 200)', 'step 100', 'step 200']);
    expect(w.find('[data-action=model]').text()).toBe('TransformerLens');
    await w.find('[data-action=model]').trigger('click');
    await w.findAll('[data-field=checkpoint] option')[1].setSelected();
    await w.find('[data-action=model]').trigger('click');
    expect(w.emitted('model')).toEqual([['run-1', null], ['run-1', 100]]);
  });

  it('states the live forecast with its interval', () => {
    const forecast = { threshold: 0.6, referenceRuns: 4, relError: 0.3, points: [{ step: 200, predicted: 1234.4, lo: 900, hi: null }] };
    const w = mount(RunView, { props: { run: detail({ forecast }), live: null, theme: 'light' }, global: { stubs } });
    expect(w.find('[data-field=forecast]').text()).toBe('forecast onset: step 1234 (interval 900–∞) at step 200, from 4 other completed baseline runs of this setting');
  });
});

describe('LaunchView', () => {
  function api(over: Partial<GrokscopeApi>): GrokscopeApi {
    // The form's choices as core gives them (GrokscopeService.formChoices, no library needed).
    const formChoices = () => new GrokscopeService('/nonexistent-library', null).formChoices();
    return { planStudy: vi.fn(async () => ({ name: 'x', runs: 1, totalSteps: 1, seconds: null, basis: 'b' })), formChoices, ...over } as GrokscopeApi;
  }

  it('sends the form as a run request and reports the new run', async () => {
    const startRun = vi.fn(async () => ({ id: 'new-run' }));
    const w = mount(LaunchView, { props: { api: api({ startRun }), active: [], studies: [] } });
    await w.find('select[name=arch]').setValue('mlp');
    await w.find('input[name=seed]').setValue(7);
    await w.find('input[name=steps]').setValue(300);
    await w.find('form[data-form=run]').trigger('submit');
    await flushPromises();
    expect(startRun).toHaveBeenCalledWith({ preset: 'quick', task: 'mod-add', arch: 'mlp', seed: 7, steps: 300, evalEvery: 50, condition: 'baseline' });
    expect(w.emitted('launched')).toEqual([['new-run']]);
  });

  it('takes a chosen preset’s budget and evaluation interval', async () => {
    const startRun = vi.fn(async () => ({ id: 'r' }));
    const w = mount(LaunchView, { props: { api: api({ startRun }), active: [], studies: [] } });
    await flushPromises();
    await w.find('select[name=preset]').setValue('fast');
    expect((w.find('input[name=steps]').element as HTMLInputElement).value).toBe(String(PRESETS.fast.steps));
    await w.find('form[data-form=run]').trigger('submit');
    await flushPromises();
    expect(startRun).toHaveBeenCalledWith(expect.objectContaining({ preset: 'fast', steps: PRESETS.fast.steps, evalEvery: PRESETS.fast.evalEvery }));
  });

  it('sends the optional fields that are filled in (the preset’s values as placeholders), and puts core’s objections next to their fields', async () => {
    const startRun = vi.fn(async (_req: RunRequest) => {
      throw new Error('invalid run: lr: Number must be greater than 0; p: must be a prime for mod-add (got 12)');
    });
    const w = mount(LaunchView, { props: { api: api({ startRun }), active: [], studies: [] } });
    await flushPromises();
    expect(w.find('input[name=lr]').attributes('placeholder')).toBe(String(PRESETS.quick.lr));
    await w.find('input[name=lr]').setValue('-1');
    await w.find('input[name=p]').setValue('12');
    await w.find('input[name=weightDecay]').setValue('0.5');
    await w.find('select[name=backend]').setValue('wasm');
    await w.find('select[name=probe]').setValue('embed');
    await w.find('form[data-form=run]').trigger('submit');
    await flushPromises();
    expect(startRun).toHaveBeenCalledWith({ preset: 'quick', task: 'mod-add', arch: 'transformer', seed: 0, steps: 10000, evalEvery: 50, condition: 'baseline', p: 12, lr: -1, weightDecay: 0.5, backend: 'wasm', probe: 'embed' });
    expect(w.find('[data-error-for=lr]').text()).toBe('Number must be greater than 0');
    expect(w.find('[data-error-for=p]').text()).toBe('must be a prime for mod-add (got 12)');
    expect(w.find('input[name=lr]').attributes('aria-invalid')).toBe('true');
    expect(w.find('.run-form [role=alert]').text()).toBe('check lr, p (marked below)');
  });

  it('asks for the mix run of a norm-matched run, and shows core’s refusal as it is', async () => {
    const startRun = vi.fn(async () => {
      throw new Error('norm-matched target nope: no such run');
    });
    const w = mount(LaunchView, { props: { api: api({ startRun }), active: [], studies: [] } });
    expect(w.find('input[name=normTargetRun]').exists()).toBe(false);
    await w.find('select[name=condition]').setValue('norm-matched');
    await w.find('input[name=normTargetRun]').setValue('nope');
    await w.find('form[data-form=run]').trigger('submit');
    await flushPromises();
    expect(startRun).toHaveBeenCalledWith(expect.objectContaining({ condition: 'norm-matched', normTargetRun: 'nope' }));
    expect(w.find('[role=alert]').text()).toBe('norm-matched target nope: no such run');
    expect(w.emitted('launched')).toBeUndefined();
  });

  it('starts a named study or a JSON spec, and refuses broken JSON before calling core', async () => {
    const startStudy = vi.fn(async () => ({ name: 'mine', runs: 4 }));
    const w = mount(LaunchView, { props: { api: api({ startStudy }), active: [{ id: 'x', step: 5, totalSteps: 10, etaSeconds: 3 }], studies: [] } });
    expect(w.find('[data-active=x]').text()).toBe('x — step 5/10 · ETA 3 s');
    await w.find('textarea[name=spec]').setValue('{ broken');
    await w.find('form[data-form=study]').trigger('submit');
    await flushPromises();
    expect(startStudy).not.toHaveBeenCalled();
    expect(w.find('.study-form [role=alert]').text()).toMatch(/^the spec is not valid JSON/);
    await w.find('textarea[name=spec]').setValue('{"name": "mine"}');
    await w.find('form[data-form=study]').trigger('submit');
    await flushPromises();
    expect(startStudy).toHaveBeenCalledWith({ name: 'mine' });
    expect(w.text()).toContain('study mine started: 4 runs');
  });

  it('builds the study from its fields, shows the live plan, and puts problems next to their fields', async () => {
    vi.useFakeTimers();
    try {
      const planStudy = vi.fn(async (spec: string | Record<string, unknown>) => {
        const s = spec as { seeds: number[]; conditions: string[] };
        if (!s.conditions.includes('baseline')) throw new Error("invalid study spec: conditions: a study needs 'baseline' runs to compare against");
        return { name: 'my-study', runs: s.seeds.length * 6, totalSteps: s.seeds.length * 6 * 6000, seconds: 750, basis: 'measured on 3 runs' };
      });
      const startStudy = vi.fn(async () => ({ name: 'my-study', runs: 12 }));
      const w = mount(LaunchView, { props: { api: api({ planStudy, startStudy }), active: [], studies: [] } });
      await flushPromises();
      await w.find('input[name=seeds]').setValue('0-1');
      await vi.advanceTimersByTimeAsync(300);
      await flushPromises();
      expect(planStudy).toHaveBeenLastCalledWith({ name: 'my-study', preset: 'quick', overrides: {}, tasks: ['mod-add'], archs: ['transformer', 'mlp'], conditions: ['baseline', 'mix', 'norm-matched'], seeds: [0, 1], earlyStopEvals: 10 });
      expect(w.find('[data-field=study-plan]').text()).toBe('12 runs, 72,000 steps · about 13 min — measured on 3 runs');
      // A seed list that is not one: said at the field, core not asked.
      const calls = planStudy.mock.calls.length;
      await w.find('input[name=seeds]').setValue('0-x');
      await vi.advanceTimersByTimeAsync(300);
      expect(planStudy.mock.calls.length).toBe(calls);
      expect(w.find('[data-error-for=seeds]').text()).toMatch(/a range like 0-4/);
      // Core's objection, next to its field.
      await w.find('input[name=seeds]').setValue('0-1');
      await w.find('input[name="condition-baseline"]').setValue(false);
      await vi.advanceTimersByTimeAsync(300);
      await flushPromises();
      expect(w.find('[data-error-for=conditions]').text()).toBe("a study needs 'baseline' runs to compare against");
      await w.find('input[name="condition-baseline"]').setValue(true);
      await w.find('input[name=studySteps]').setValue('300');
      await w.find('form[data-form=study]').trigger('submit');
      await flushPromises();
      expect(startStudy).toHaveBeenCalledWith(expect.objectContaining({ seeds: [0, 1], overrides: { steps: 300 }, conditions: ['mix', 'norm-matched', 'baseline'] }));
      expect(startStudy.mock.calls[0]).toHaveLength(1); // this host's pool
      expect(w.text()).toContain('study my-study started: 12 runs');
      // On a queue: the URL and the results folder go with the spec.
      await w.find('input[name=queue]').setValue(' redis://:pw@lab:6379/0 ');
      await w.find('input[name=results]').setValue('/shared/results');
      await w.find('form[data-form=study]').trigger('submit');
      await flushPromises();
      expect(startStudy.mock.calls[1][1]).toEqual({ queue: 'redis://:pw@lab:6379/0', results: '/shared/results' });
    } finally {
      vi.useRealTimers();
    }
  });
});

// CompareView's tests: test/components-compare.test.ts.

describe('App', () => {
  it('says what it is comparing while a compare is on its way, then shows it', async () => {
    let finish!: (d: CompareData) => void;
    const compare = vi.fn(() => new Promise<CompareData>((res) => (finish = res)));
    const api = {
      listRuns: vi.fn(async () => [item({ id: 'a' }), item({ id: 'b', seed: 1 })]),
      subscribe: vi.fn(() => () => undefined),
      compare,
    } as unknown as GrokscopeApi;
    (window as unknown as { grokscope?: GrokscopeApi }).grokscope = api;
    try {
      const w = mount(App, { global: { stubs } });
      await flushPromises();
      w.findComponent(LibraryView).vm.$emit('compare', ['a', 'b']);
      await flushPromises();
      expect(compare).toHaveBeenCalledWith(['a', 'b'], undefined);
      expect(w.find('[data-field=comparing]').text()).toBe('Comparing 2 run(s)…');
      const band = { mean: [0], lower: [0], upper: [0], min: [0], max: [0], n: [1] };
      finish({
        probe: 'resid.final', probes: ['resid.final'], threshold: { value: 0.61, source: 'configured', detail: 'configured' }, fittedThresholds: [], band: 'minmax', smoothing: 0, grouping: { available: [], fields: [], pooled: [] },
        groups: [{ arch: 'mlp', condition: 'baseline', setting: '', variant: '', label: 'baseline', runs: ['a', 'b'], steps: [0], test_acc: band, train_acc: band, entropy: band, weight_norm: band }],
        necessity: [], interventions: [], detection: [], onset: [], align: null, configDiff: [],
      });
      await flushPromises();
      expect(w.find('[data-field=comparing]').exists()).toBe(false);
      expect(w.find('.compare [data-arch=mlp]').exists()).toBe(true);
      w.unmount();
    } finally {
      delete (window as unknown as { grokscope?: GrokscopeApi }).grokscope;
    }
  });
});
