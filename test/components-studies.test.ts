// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import type { GrokscopeApi, LiveEvent, RunDetail, StudyListItem, StudyReportView } from '../core/api.js';
import StudiesView from '../renderer/src/views/StudiesView.vue';
import App from '../renderer/src/App.vue';
import { RELOAD_MS } from '../renderer/src/run-refresh.js';

/**
 * The studies view (list, live progress, runs training now, a report opened in place) and the
 * app's part in it: one display per error, dismissable and cleared on a tab change; the study's
 * end as a message with a button to its report; the open run's record read again when its live
 * points show an event the record lacks, and every 5 s while the run view shows it training.
 */
function study(over: Partial<StudyListItem>): StudyListItem {
  return { name: 's', status: 'completed', trainingHere: false, total: 4, done: 4, failed: 0, preset: 'fast', tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline', 'mix'], seeds: 2, updatedAt: '2026-12-05T10:00:00Z', verdicts: null, ...over };
}
const REPORT: StudyReportView = {
  name: 'done',
  writtenAt: '2026-12-05T10:00:00Z',
  probe: 'resid.final',
  rules: 'T_grok at test accuracy ≥ 0.95.',
  claims: [
    { claim: 'C1', verdict: 'reproduced', text: 'reproduced', stability: 0.96, rule: 'rule one', otherBackend: null },
    { claim: 'C2', verdict: 'inconclusive', text: 'inconclusive, unstable: 0.62', stability: 0.62, rule: 'rule two', otherBackend: null },
  ],
  tables: [{ id: 'onset', title: 'Onset', note: 'n', columns: ['task', 'H̃*', 'lead', 'band'], rows: [['mod-add', 0.35749999, 12345, '0.355 … 0.360']] }, { id: 'groups', title: 'Groups', note: 'g', columns: ['task', 'n'], rows: [] }],
  figures: [{ name: 'accuracy-mod-add-transformer', png: 'iVBORw0KGgo=' }],
  folder: '/lib/reports/done',
};

function studiesApi(over: Partial<GrokscopeApi> = {}): GrokscopeApi {
  return {
    listStudies: vi.fn(async () => [study({ name: 'live', status: 'running', trainingHere: true, done: 0 }), study({ name: 'done', verdicts: { C1: 'reproduced', C2: 'inconclusive, unstable: 0.62' } }), study({ name: 'half', status: 'running', done: 1 })]),
    getStudyReport: vi.fn(async () => REPORT),
    ...over,
  } as unknown as GrokscopeApi;
}

describe('StudiesView', () => {
  const props = (api: GrokscopeApi, over: Record<string, unknown> = {}) => ({ api, live: [], active: [], report: null, version: 0, ...over });

  it('lists the studies with their status, progress (live while training here) and verdicts', async () => {
    const api = studiesApi();
    const w = mount(StudiesView, { props: props(api, { live: [{ name: 'live', done: 1, failed: 1, total: 4, running: 2 }] }) });
    await flushPromises();
    const row = (name: string) => w.find(`tr[data-study="${name}"]`);
    expect(row('live').find('[data-field=status]').text()).toBe('running');
    expect(row('live').find('[data-field=progress]').text()).toBe('1/4 done, 1 failed, 2 training');
    expect(row('done').find('[data-field=status]').text()).toBe('finished: completed');
    expect(row('half').find('[data-field=status]').text()).toBe('running elsewhere, or interrupted');
    expect(row('done').findAll('[data-claim]').map((v) => [v.text(), v.classes()])).toEqual([
      ['C1 reproduced', ['verdict', 'v-reproduced']],
      ['C2 inconclusive, unstable: 0.62', ['verdict', 'v-inconclusive']],
    ]);
    expect(row('half').find('[data-action=open-report]').exists()).toBe(false);
    await row('done').find('[data-action=open-report]').trigger('click');
    expect(w.emitted('report')).toEqual([['done']]);
    // The list is read again when the app says the library changed.
    await w.setProps({ version: 1 });
    await flushPromises();
    expect(api.listStudies).toHaveBeenCalledTimes(2);
  });

  it('shows a study’s runs training now, each opening its run', async () => {
    const w = mount(StudiesView, { props: props(studiesApi(), { active: [{ id: 'alone', step: 1, totalSteps: 2, etaSeconds: null }, { id: 'r7', step: 1500, totalSteps: 3000, etaSeconds: 12.4, study: 'live' }] }) });
    await flushPromises();
    const items = w.findAll('[data-field=study-training] li');
    expect(items.map((i) => i.text())).toEqual(['study live: r7 — step 1,500/3,000 · ETA 12 s']);
    await items[0].find('a').trigger('click');
    expect(w.emitted('open-run')).toEqual([['r7']]);
  });

  it('opens a report in place: claims with their verdicts, the tables with numbers rounded, the figures', async () => {
    const api = studiesApi();
    const w = mount(StudiesView, { props: props(api, { report: 'done' }) });
    await flushPromises();
    expect(api.getStudyReport).toHaveBeenCalledWith('done');
    const report = w.find('[data-field=study-report]');
    expect(report.find('h2').text()).toBe('Report of study done');
    expect(report.findAll('[data-table=claims] tbody tr').map((r) => r.findAll('td').map((c) => c.text()))).toEqual([
      ['C1', 'reproduced', '0.96', 'rule one'],
      ['C2', 'inconclusive, unstable: 0.62', '0.62', 'rule two'],
    ]);
    expect(report.findAll('[data-table=onset] tbody td').map((c) => c.text())).toEqual(['mod-add', '0.3575', '12,345', '0.355 … 0.360']);
    expect(report.find('[data-table=groups] tbody').text()).toBe('none');
    expect(report.find('[data-figure] img').attributes('src')).toBe('data:image/png;base64,iVBORw0KGgo=');
    await report.find('[data-action=close-report]').trigger('click');
    expect(w.emitted('report')).toEqual([[null]]);
  });

  it('hands a report that cannot be opened to the app’s error line', async () => {
    const w = mount(StudiesView, { props: props(studiesApi({ getStudyReport: vi.fn(async () => Promise.reject(new Error('study half has no report in this library yet'))) }), { report: 'half' }) });
    await flushPromises();
    expect(w.emitted('error')).toEqual([['study half has no report in this library yet']]);
    expect(w.emitted('report')).toEqual([[null]]);
    expect(w.find('[data-field=study-report]').exists()).toBe(false);
  });
});

describe('App: errors, study messages, the open run kept current', () => {
  const RunViewStub = { props: ['run', 'live', 'theme'], template: '<div class="run-stub" :data-t-mem="run.events?.T_mem ?? \'—\'" />' };
  let emit: (e: LiveEvent) => void = () => undefined;
  afterEach(() => {
    delete (window as unknown as { grokscope?: GrokscopeApi }).grokscope;
    vi.useRealTimers();
  });
  function mountApp(over: Partial<GrokscopeApi>) {
    const api = {
      listRuns: vi.fn(async () => []),
      subscribe: vi.fn((l: (e: LiveEvent) => void) => {
        emit = l;
        return () => undefined;
      }),
      ...studiesApi(),
      ...over,
    } as unknown as GrokscopeApi;
    (window as unknown as { grokscope?: GrokscopeApi }).grokscope = api;
    return { api, w: mount(App, { global: { stubs: { RunView: RunViewStub, EChart: true } } }) };
  }

  it('shows an error once, dismissable, and clears it on a tab change', async () => {
    const { w } = mountApp({ compare: vi.fn(async () => Promise.reject(new Error('no runs to compare'))) });
    await flushPromises();
    const error = () => w.findAll('[role=alert]');
    w.findComponent({ name: 'LibraryView' }).vm.$emit('compare', ['a']);
    await flushPromises();
    expect(error().map((e) => e.find('span').text())).toEqual(['no runs to compare']);
    expect(w.findAll('.notice').filter((n) => n.text().includes('no runs to compare'))).toHaveLength(0);
    await w.find('[data-action=dismiss-error]').trigger('click');
    expect(error()).toHaveLength(0);
    // A run that failed is an error (not a notice as well); leaving the view clears it.
    emit({ type: 'run-finished', id: 'r1', status: 'failed', error: 'out of memory' });
    await flushPromises();
    expect(error().map((e) => e.find('span').text())).toEqual(['run r1 failed: out of memory']);
    expect(w.findAll('.notice')).toHaveLength(0);
    await w.find('button[data-tab=compare]').trigger('click');
    expect(error()).toHaveLength(0);
    w.unmount();
  });

  it('names a finished study with its verdicts and a button that opens its report in the studies view', async () => {
    const { api, w } = mountApp({ formChoices: vi.fn(async () => Promise.reject(new Error('n/a'))), planStudy: vi.fn(async () => Promise.reject(new Error('n/a'))) });
    await flushPromises();
    emit({ type: 'study-finished', name: 'done', status: 'completed', summary: '/lib/reports/done/summary.json', report: '/lib/reports/done/report.html', verdicts: { C1: 'reproduced' }, error: null });
    await flushPromises();
    const message = w.find('[data-field=study-finished]');
    expect(message.find('span').text()).toBe('study done completed: C1 reproduced');
    expect(message.text()).not.toContain('/lib/');
    await message.find('[data-action=open-study-report]').trigger('click');
    await flushPromises();
    expect(w.find('button[data-tab=studies]').classes()).toContain('active');
    expect(api.getStudyReport).toHaveBeenCalledWith('done');
    expect(w.find('[data-field=study-report]').attributes('data-report')).toBe('done');
    expect(w.find('[data-field=study-finished]').exists()).toBe(false);
    // A study's runs leave no message of their own: its progress and end speak for them.
    emit({ type: 'run-progress', id: 'sr', step: 1, totalSteps: 2, stepsPerSecond: null, etaSeconds: null, backend: null, latest: null, study: 'done' });
    emit({ type: 'run-grokked', id: 'sr', step: 1 });
    emit({ type: 'run-finished', id: 'sr', status: 'completed', error: null, study: 'done' });
    await flushPromises();
    expect(w.findAll('.notice')).toHaveLength(0);
    w.unmount();
  });

  it('reads the open run again when a live point shows memorisation its events lack, and every 5 s while it trains', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const point = (step: number, train_acc: number) => ({ step, train_acc, test_acc: 0, train_loss: 1, test_loss: 2, weight_norm: 30, entropy: { 'resid.final': 0.9 } });
    const run = (T_mem: number | null, steps: number[]): RunDetail =>
      ({ id: 'live-run', status: 'running', config: { memThreshold: 0.99 }, events: { T_mem, T_grok: null, T_grok_50: null, T_grok_99: null, T_cross: null, lead: null }, metrics: steps.map((s) => point(s, s >= 200 ? 1 : 0.5)), checkpoints: [], spectra: [], forecast: null }) as unknown as RunDetail;
    let stored = run(null, [0, 100]);
    const getRun = vi.fn(async () => stored);
    const { w } = mountApp({ listRuns: vi.fn(async () => []), getRun });
    await flushPromises();
    w.findComponent({ name: 'LibraryView' }).vm.$emit('open', 'live-run');
    await flushPromises();
    expect(getRun).toHaveBeenCalledTimes(1);
    const progress = (step: number, acc: number): LiveEvent => ({ type: 'run-progress', id: 'live-run', step, totalSteps: 1000, stepsPerSecond: 10, etaSeconds: 90, backend: 'cpu', latest: point(step, acc) });
    // Not memorised yet, 2 s after the read: no read.
    vi.advanceTimersByTime(2000);
    emit(progress(150, 0.6));
    await flushPromises();
    expect(getRun).toHaveBeenCalledTimes(1);
    // Memorised, and the record has no T_mem: read at once, and again (a second later) until it has one.
    emit(progress(200, 1));
    await flushPromises();
    expect(getRun).toHaveBeenCalledTimes(2);
    stored = run(200, [0, 100, 200, 250]);
    vi.advanceTimersByTime(1100);
    emit(progress(300, 1));
    await flushPromises();
    expect(getRun).toHaveBeenCalledTimes(3);
    expect(w.find('.run-stub').attributes('data-t-mem')).toBe('200');
    // With T_mem in, live points alone do not read it again within 5 s…
    emit(progress(350, 1));
    await flushPromises();
    expect(getRun).toHaveBeenCalledTimes(3);
    // …but the run view reads a training run every 5 s without any live event (the forecast stays fresh).
    vi.advanceTimersByTime(RELOAD_MS + 1000);
    await flushPromises();
    expect(getRun).toHaveBeenCalledTimes(4);
    // Not while another view is shown.
    await w.find('button[data-tab=library]').trigger('click');
    vi.advanceTimersByTime(3 * RELOAD_MS);
    await flushPromises();
    expect(getRun).toHaveBeenCalledTimes(4);
    w.unmount();
  });
});
