// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import type { GrokscopeApi, RunListItem, RunRequest, StudyPlan } from '../core/api.js';
import { PRESETS } from '../core/schema/run-config.js';
import { GrokscopeService } from '../core/service/service.js';
import { configsFromRequest } from '../core/service/validate.js';
import LaunchView from '../renderer/src/views/LaunchView.vue';
import { studyFieldErrors } from '../renderer/src/components/launch-forms.js';
import { RUN_FLAGS } from '../main/cli/run-config.js';

/**
 * The launch forms in happy-dom against a mocked host (the pattern of components.test.ts): the run
 * form offers every `grokscope run` setting and sends what is filled in; the study form builds
 * overrides and detection controls from fields; core's objections stay at their fields until
 * fixed; the plan line says when a shape is being measured.
 */
function api(over: Partial<GrokscopeApi>): GrokscopeApi {
  // The form's choices as core gives them (no library needed).
  const formChoices = () => new GrokscopeService('/nonexistent-library', null).formChoices();
  const plan: StudyPlan = { name: 'x', runs: 1, totalSteps: 1, seconds: null, basis: 'b' };
  return { planStudy: vi.fn(async () => plan), listRuns: vi.fn(async () => []), formChoices, ...over } as GrokscopeApi;
}
function item(over: Partial<RunListItem>): RunListItem {
  return { id: 'r', task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, status: 'completed', backend: 'wasm', origin: 'trained', T_grok: null, T_cross: null, lead: null, stepsDone: 10, steps: 10, tags: [], ...over } as RunListItem;
}
const run = (w: VueWrapper) => w.find('form[data-form=run]');
const study = (w: VueWrapper) => w.find('form[data-form=study]');
/** Past the study form's debounce, and every answer in. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(300);
  await flushPromises();
}

describe('the run form', () => {
  it('has a field for every setting `grokscope run` takes as a flag', async () => {
    const w = mount(LaunchView, { props: { api: api({}), active: [], studies: [] } });
    await flushPromises();
    // Fields that show for some conditions only: a mix run's settings, a matched run's mix run.
    const shown = async (condition: string) => {
      await run(w).find('select[name=condition]').setValue(condition);
      await flushPromises();
      return new Set(run(w).findAll('[name]').map((e) => e.attributes('name')));
    };
    const names = new Set([...(await shown('mix')), ...(await shown('logit-matched'))]);
    expect(RUN_FLAGS.map((f) => f.field).filter((f) => !names.has(f))).toEqual([]);
  });

  it('offers every condition, and the library’s mix runs for a logit-matched run to replay', async () => {
    const listRuns = vi.fn(async () => [item({ id: 'mix-7', condition: 'mix', seed: 7 }), item({ id: 'base-1' })]);
    const startRun = vi.fn(async () => ({ id: 'lm' }));
    const w = mount(LaunchView, { props: { api: api({ listRuns, startRun }), active: [], studies: [] } });
    await flushPromises();
    expect(run(w).findAll('select[name=condition] option').map((o) => o.text())).toEqual(['baseline', 'mix', 'norm-matched', 'logit-matched']);
    await run(w).find('select[name=condition]').setValue('logit-matched');
    await flushPromises();
    expect(run(w).findAll('datalist#mix-runs option').map((o) => o.attributes('value'))).toEqual(['mix-7']);
    await run(w).find('input[name=normTargetRun]').setValue('mix-7');
    await run(w).trigger('submit');
    await flushPromises();
    expect(startRun).toHaveBeenCalledWith({ preset: 'quick', task: 'mod-add', arch: 'transformer', seed: 0, steps: PRESETS.quick.steps, evalEvery: PRESETS.quick.evalEvery, condition: 'logit-matched', normTargetRun: 'mix-7' });
    expect(w.emitted('launched')).toEqual([['lm']]);
  });

  it('launches one run per seed of a range, says how many, and sends the plateau and stopping settings', async () => {
    const startRun = vi.fn(async (_r: RunRequest) => ({ id: 'first' }));
    const w = mount(LaunchView, { props: { api: api({ startRun }), active: [], studies: [] } });
    await flushPromises();
    await run(w).find('input[name=seed]').setValue('0-4');
    expect(run(w).find('[data-field=seed-count]').text()).toBe('launches 5 runs, one per seed');
    expect(run(w).find('button[data-action=launch]').text()).toBe('launch 5 runs');
    await run(w).find('input[name=initScale]').setValue('2.5');
    await run(w).find('input[name=temperature]').setValue('0.5');
    await run(w).find('input[name=earlyStopEvals]').setValue('10');
    await run(w).find('input[name=checkpointEvery]').setValue('500');
    await run(w).find('input[name=spectrumEvery]').setValue('250');
    // The mix settings show only for a mix run, and only then are sent.
    expect(run(w).find('input[name=mixStrength]').exists()).toBe(false);
    await run(w).trigger('submit');
    await flushPromises();
    const req = startRun.mock.calls[0][0];
    expect(req).toMatchObject({ seeds: '0-4', initScale: 2.5, temperature: 0.5, earlyStopEvals: 10, checkpointEvery: 500, spectrumEvery: 250 });
    expect(req).not.toHaveProperty('seed');
    // Core makes the request into one config per seed, each with the settings.
    const configs = configsFromRequest(req);
    expect(configs.map((c) => c.seed)).toEqual([0, 1, 2, 3, 4]);
    expect(configs.every((c) => c.initScale === 2.5 && c.earlyStopEvals === 10 && c.spectrumEvery === 250)).toBe(true);
    await run(w).find('select[name=condition]').setValue('mix');
    await run(w).find('select[name=mixForm]').setValue('entropy-penalty');
    await run(w).find('input[name=mixStrength]').setValue('0.2');
    await run(w).trigger('submit');
    await flushPromises();
    expect(startRun.mock.calls[1][0]).toMatchObject({ condition: 'mix', mixForm: 'entropy-penalty', mixStrength: 0.2 });
  });

  it('puts core’s objections to the seed list and to early stopping at their fields', async () => {
    const startRun = vi.fn(async (r: RunRequest) => ({ id: String(configsFromRequest(r).length) }));
    const w = mount(LaunchView, { props: { api: api({ startRun }), active: [], studies: [] } });
    await flushPromises();
    await run(w).find('input[name=seed]').setValue('4-1');
    await run(w).trigger('submit');
    await flushPromises();
    expect(run(w).find('[data-error-for=seed]').text()).toBe('the range 4-1 runs backwards');
    expect(run(w).find('input[name=seed]').attributes('aria-invalid')).toBe('true');
    await run(w).find('input[name=seed]').setValue('3');
    await run(w).find('select[name=condition]').setValue('mix');
    await run(w).find('input[name=earlyStopEvals]').setValue('5');
    await run(w).trigger('submit');
    await flushPromises();
    expect(run(w).find('[data-error-for=earlyStopEvals]').text()).toMatch(/a mix run must train its whole budget/);
    expect(run(w).find('[role=alert]').text()).toBe('check earlyStopEvals (marked below)');
  });
});

describe('the study form', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sets hyperparameter overrides and detection controls from fields', async () => {
    const planStudy = vi.fn(async (_s: string | Record<string, unknown>) => ({ name: 'x', runs: 3, totalSteps: 30, seconds: null, basis: 'b' }));
    const w = mount(LaunchView, { props: { api: api({ planStudy }), active: [], studies: [] } });
    await settle();
    await study(w).find('input[name=studyWeightDecay]').setValue('0.5');
    await study(w).find('input[name=studyLr]').setValue('0.003');
    await study(w).find('input[name=studyTrainFraction]').setValue('0.4');
    await study(w).find('input[name=studyP]').setValue('53');
    await study(w).find('select[name=studyProbe]').setValue('embed');
    await study(w).find('button[data-action=add-control]').trigger('click');
    await study(w).find('input[name=control-0-lr]').setValue('0.0001');
    await settle();
    expect(planStudy).toHaveBeenLastCalledWith(
      expect.objectContaining({
        overrides: { weightDecay: 0.5, lr: 0.003, trainFraction: 0.4, p: 53, probe: 'embed' },
        controls: [{ name: 'no-weight-decay', overrides: { weightDecay: 0, lr: 0.0001 } }],
      }),
    );
    // The control's placeholders are the study's own values.
    expect(study(w).find('input[name=control-0-weightDecay]').attributes('placeholder')).toBe('0.5 (study)');
    await study(w).find('button[data-action=remove-control-0]').trigger('click');
    await settle();
    expect(planStudy.mock.calls.at(-1)![0]).not.toHaveProperty('controls');
  });

  it('keeps a rejected spec’s objection at its field through other changes and plan refreshes, until it is fixed', async () => {
    // Core's answers can be held back, to look at the form while it is asked.
    let gate: Promise<void> = Promise.resolve();
    let open!: () => void;
    const planStudy = vi.fn(async (spec: string | Record<string, unknown>) => {
      const s = spec as { overrides: { weightDecay?: number }; seeds: number[] };
      await gate;
      if ((s.overrides.weightDecay ?? 1) < 0) throw new Error('study my-study: run mod-add/transformer/baseline/s0: weightDecay: Too small: expected number to be >=0');
      return { name: 'my-study', runs: s.seeds.length, totalSteps: 10, seconds: null, basis: 'b' };
    });
    const w = mount(LaunchView, { props: { api: api({ planStudy }), active: [], studies: [] } });
    await settle();
    await study(w).find('input[name=studyWeightDecay]').setValue('-1');
    await settle();
    const shown = () => study(w).find('[data-error-for=weightDecay]');
    expect(shown().text()).toBe('Too small: expected number to be >=0');
    // Another field changes: while core is asked again the objection stays, and after it answers.
    gate = new Promise((r) => (open = r));
    await study(w).find('input[name=studyName]').setValue('other-name');
    expect(study(w).find('[data-field=study-plan]').attributes('data-state')).toBe('pending');
    await settle();
    expect(planStudy.mock.calls.at(-1)![0]).toMatchObject({ name: 'other-name' });
    expect(study(w).find('[data-field=study-plan]').attributes('data-state')).toBe('pending');
    expect(shown().exists()).toBe(true);
    open();
    await flushPromises();
    expect(study(w).find('[data-field=study-plan]').attributes('data-state')).toBe('done');
    expect(shown().text()).toBe('Too small: expected number to be >=0');
    expect(study(w).find('[role=alert]').text()).toBe('check weightDecay (marked below)');
    await study(w).find('input[name=studyWeightDecay]').setValue('0');
    await settle();
    expect(shown().exists()).toBe(false);
    expect(study(w).find('[role=alert]').exists()).toBe(false);
  });

  it('keeps an objection to "start" while its field is unchanged, and a general one while the spec is', async () => {
    let refuse = 'study my-study: run mod-add/mlp/baseline@slow/s0: lr: Too small: expected number to be >0';
    const startStudy = vi.fn(async () => {
      throw new Error(refuse);
    });
    const w = mount(LaunchView, { props: { api: api({ startStudy }), active: [], studies: [] } });
    await settle();
    await study(w).find('button[data-action=add-control]').trigger('click');
    await study(w).find('input[name=control-0-name]').setValue('slow');
    await study(w).find('input[name=control-0-lr]').setValue('0');
    await study(w).trigger('submit');
    await flushPromises();
    // The control's run: its own field, since the control sets lr.
    expect(study(w).find('[data-error-for="controls.0.lr"]').text()).toBe('Too small: expected number to be >0');
    await study(w).find('input[name=seeds]').setValue('0-2');
    await settle();
    expect(study(w).find('[data-error-for="controls.0.lr"]').exists()).toBe(true);
    await study(w).find('input[name=control-0-lr]').setValue('0.0001');
    await settle();
    expect(study(w).find('[data-error-for="controls.0.lr"]').exists()).toBe(false);
    refuse = 'study my-study is already running';
    await study(w).trigger('submit');
    await flushPromises();
    await settle(); // a plan refresh does not take it away
    expect(study(w).find('[role=alert]').text()).toBe('study my-study is already running');
    await study(w).find('input[name=studyName]').setValue('another');
    await settle();
    expect(study(w).find('[role=alert]').exists()).toBe(false);
  });

  it('says while a shape is measured for the estimate, then shows the estimate', async () => {
    let measured = false;
    let release!: () => void;
    const planStudy = vi.fn(async (): Promise<StudyPlan> => {
      if (!measured) {
        measured = true;
        return { name: 'x', runs: 60, totalSteps: 600000, seconds: null, basis: 'measuring a short run of transformer d=64 mlp=256 p=47 on this machine (a few seconds, once per shape)…', measuring: ['transformer d=64 mlp=256 p=47'] };
      }
      await new Promise<void>((r) => (release = r));
      return { name: 'x', runs: 60, totalSteps: 600000, seconds: 1800, basis: 'measured 40 steps of this shape on this machine now' };
    });
    const w = mount(LaunchView, { props: { api: api({ planStudy }), active: [], studies: [] } });
    await settle();
    const line = study(w).find('[data-field=study-plan]');
    expect(line.attributes('data-state')).toBe('measuring');
    expect(line.text()).toMatch(/^60 runs, 600,000 steps — measuring a short run of transformer d=64 mlp=256 p=47 on this machine/);
    expect(planStudy).toHaveBeenCalledTimes(2); // asked again at once: that call waits for the measurement
    release();
    await flushPromises();
    expect(line.attributes('data-state')).toBe('done');
    expect(line.text()).toBe('60 runs, 600,000 steps · about 30 min — measured 40 steps of this shape on this machine now');
  });
});

describe('core’s study objections, placed', () => {
  it('reads the spec schema’s paths and a plan run’s key', () => {
    const controls = [{ name: 'wd0', overrides: { weightDecay: '-1' } }];
    expect(studyFieldErrors('invalid study spec: controls.0.name: lowercase letters, digits and "-" only; seeds: Too small', controls).byField).toEqual({ 'controls.0.name': 'lowercase letters, digits and "-" only', seeds: 'Too small' });
    expect(studyFieldErrors('study s: run mod-add/mlp/baseline@wd0/s1: weightDecay: Too small; steps: bad', controls)).toEqual({ byField: { 'controls.0.weightDecay': 'Too small', steps: 'bad' }, rest: null });
    expect(studyFieldErrors('study s: run mod-add/mlp/mix/s1: mixStrength: α of the orthogonal mix must be in [0, 1] (got 2)', []).byField).toEqual({ mixStrength: 'α of the orthogonal mix must be in [0, 1] (got 2)' });
    expect(studyFieldErrors('this host cannot train (no worker pool)', [])).toEqual({ byField: {}, rest: 'this host cannot train (no worker pool)' });
  });
});
