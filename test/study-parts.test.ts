import { describe, expect, it } from 'vitest';
import { NAMED_STUDIES, partKeys, partsOf, planRuns, resolveStudySpec } from '../core/study/spec.js';
import { StudySpecError, type StudySpec } from '../core/schema/study-spec.js';

/**
 * Parts and per-task settings of a study spec (core/schema/study-spec.ts, core/study/spec.ts):
 * the paper study's two parts (docs/preregistration.md §5), a run two parts share planned once,
 * and the refusals of a spec whose parts or task settings do not fit it.
 */
const paper = NAMED_STUDIES.paper;

describe('the paper study in parts', () => {
  it('plans the baselines part on every task and architecture and the interventions part on mod-add Transformers, sharing their baselines', () => {
    const runs = planRuns(paper);
    const keys = runs.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    const baselines = partKeys(paper, 'baselines');
    const interventions = partKeys(paper, 'interventions');
    const seeds = paper.seeds.length;
    expect(baselines.size).toBe(paper.tasks.length * paper.archs.length * seeds);
    expect(interventions.size).toBe(paper.conditions.length * seeds);
    // The mod-add Transformer baselines belong to both parts and are planned once.
    const shared = [...interventions].filter((k) => baselines.has(k));
    expect(shared.sort()).toEqual(paper.seeds.map((s) => `mod-add/transformer/baseline/s${s}`).sort());
    expect(runs.length).toBe(baselines.size + interventions.size - shared.length);
    expect(partsOf(paper, 'mod-add', 'transformer', 'baseline')).toEqual(['baselines', 'interventions']);
    expect(partsOf(paper, 's5', 'mlp', 'mix')).toEqual([]);
  });

  it('gives the interventions the entropy penalty, trains mix runs their whole budget and ties each control to its seed’s mix run', () => {
    const runs = planRuns(paper);
    const mix = runs.filter((r) => r.config.condition === 'mix');
    expect(mix.length).toBe(paper.seeds.length);
    for (const r of mix) expect([r.config.mixForm, r.config.mixStrength, r.config.earlyStopEvals]).toEqual(['entropy-penalty', paper.overrides.mixStrength, 0]);
    for (const r of runs.filter((x) => x.config.condition === 'norm-matched' || x.config.condition === 'logit-matched')) {
      expect(r.dependsOn).toBe(`mod-add/transformer/mix/s${r.config.seed}`);
      expect(keysOf(runs)).toContain(r.dependsOn);
    }
    for (const r of runs.filter((x) => x.config.condition === 'baseline')) expect(r.config.earlyStopEvals).toBe(paper.earlyStopEvals);
    expect(new Set(runs.map((r) => `${r.config.p}/${r.config.dModel}/${r.config.trainFraction}/${r.config.steps}`))).toEqual(new Set(['97/128/0.3/30000']));
  });

  it('refuses a part it does not have, naming the ones it has', () => {
    expect(() => partKeys(paper, 'pilot')).toThrow("study paper has no part 'pilot': its parts are baselines, interventions");
    expect(() => partKeys(NAMED_STUDIES.quick, 'baselines')).toThrow('study quick has no parts');
  });
});

const keysOf = (runs: { key: string }[]): string[] => runs.map((r) => r.key);

describe('per-task settings and the refusals of parts', () => {
  const base = { version: 1, name: 't', preset: 'fast', overrides: { lr: 2e-3 }, tasks: ['mod-add', 's5'], archs: ['transformer'], conditions: ['baseline'], seeds: [1, 2] };

  it('applies a task’s own fields over the study’s, to that task only', () => {
    const spec = resolveStudySpec({ ...base, taskOverrides: { s5: { lr: 1e-2, trainFraction: 0.45 } } });
    const runs = planRuns(spec);
    const of = (task: string) => runs.filter((r) => r.config.task === task).map((r) => [r.config.lr, r.config.trainFraction]);
    expect(of('s5')).toEqual([[1e-2, 0.45], [1e-2, 0.45]]);
    expect(of('mod-add').every(([lr, f]) => lr === 2e-3 && f !== 0.45)).toBe(true);
  });

  it('refuses task settings for a task it does not run, parts that name what it lacks, and controls without their mix', () => {
    const refusal = (extra: Partial<StudySpec> | Record<string, unknown>): string => {
      try {
        resolveStudySpec({ ...base, ...extra });
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(StudySpecError);
        return (err as Error).message;
      }
    };
    expect(refusal({ taskOverrides: { 'mod-mul': { lr: 1 } } })).toContain("'mod-mul' is not one of the study's tasks");
    expect(refusal({ parts: [{ name: 'a', archs: ['mlp'] }] })).toContain("part 'a' names mlp, not in the study's archs");
    expect(refusal({ conditions: ['baseline', 'mix', 'norm-matched'], parts: [{ name: 'b', conditions: ['baseline', 'norm-matched'] }] })).toContain("part 'b': 'norm-matched' needs 'mix' in the same part");
    expect(refusal({ parts: [{ name: 'a' }, { name: 'a' }] })).toContain('part names must differ');
    expect(refusal({ parts: [{ name: 'a', tasks: ['s5'] }] })).toBe('accepted');
    // Where runs train is the study's (and --check's) choice, not one task's.
    expect(refusal({ taskOverrides: { s5: { backend: 'wasm' } } })).toContain("a task's own settings cannot set 'backend'");
  });

  it('plans only what some part selects, detection controls included', () => {
    const spec = resolveStudySpec({ ...base, parts: [{ name: 'only-s5', tasks: ['s5'] }] });
    expect(planRuns(spec).map((r) => r.key)).toEqual(['s5/transformer/baseline/s1', 's5/transformer/baseline/s2']);
    const withControls = resolveStudySpec({ ...base, controls: [{ name: 'wd0', overrides: { weightDecay: 0 } }], parts: [{ name: 'only-s5', tasks: ['s5'] }] });
    expect(planRuns(withControls).filter((r) => r.key.includes('@')).map((r) => r.key)).toEqual(['s5/transformer/baseline@wd0/s1', 's5/transformer/baseline@wd0/s2']);
    // A part's keys are its own runs; the controls are the study's (trained with the whole study).
    expect([...partKeys(withControls, 'only-s5')].every((k) => !k.includes('@'))).toBe(true);
  });
});
