import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  loadStudySpec,
  namedStudyNames,
  planStudyCommand,
  prepareStudyCommand,
  runStudyCommand,
  StudyCommandError,
  type StudyCommandInput,
} from '../core/service/study-command.js';
import { NAMED_STUDIES, partKeys, planRuns } from '../core/study/spec.js';
import { planGroups } from '../core/study/runner.js';
import { checkSpecOf } from '../core/study/check.js';
import { GrokscopeError } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

/**
 * `grokscope study` below its display (core/service/study-command.ts), without the CLI and without
 * training: what it refuses of what the user typed (a typed error whose message the CLI prints as
 * it is), the named studies it lists, and the dry run's counts against the planner's own.
 */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** The StudyCommandError a call throws (failing the test if it throws nothing or something else). */
function refusal(fn: () => unknown): StudyCommandError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StudyCommandError);
    expect(err).toBeInstanceOf(GrokscopeError);
    return err as StudyCommandError;
  }
  throw new Error('expected a refusal, got none');
}

const prepare = (input: StudyCommandInput, spec = 'quick') => prepareStudyCommand(spec, input);

describe('the study command service', () => {
  it('resolves a named study to its registered spec, and lists every registered name when the name is unknown', () => {
    for (const name of namedStudyNames()) expect(loadStudySpec(name)).toBe(NAMED_STUDIES[name as keyof typeof NAMED_STUDIES]);
    expect(namedStudyNames()).toEqual(Object.keys(NAMED_STUDIES));
    const err = refusal(() => loadStudySpec(path.join(tmp.dir, 'nonsense')));
    expect(err.message).toMatch(/^unknown study '.*nonsense': expected .* or a spec JSON file$/);
    for (const name of Object.keys(NAMED_STUDIES)) expect(err.message).toContain(name);
    // A property every object has is not a study.
    expect(refusal(() => loadStudySpec('toString')).message).toMatch(/^unknown study 'toString'/);
  });

  it('reads a spec file, and refuses one that is not JSON or not a valid spec in one line', () => {
    const good = path.join(tmp.dir, 'tiny.json');
    writeFileSync(good, JSON.stringify({ name: 'tiny', preset: 'fast', overrides: { p: 11, steps: 20 }, tasks: ['mod-add'], archs: ['mlp'], conditions: ['baseline'], seeds: [0] }));
    expect(loadStudySpec(good).name).toBe('tiny');
    const broken = path.join(tmp.dir, 'broken.json');
    writeFileSync(broken, '{"name": "tiny",');
    expect(refusal(() => loadStudySpec(broken)).message).toMatch(new RegExp(`^study spec ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON: `));
    const invalid = path.join(tmp.dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ name: 'tiny', preset: 'fast', tasks: ['mod-add'], archs: ['cnn'], conditions: ['baseline'], seeds: [0] }));
    const err = refusal(() => loadStudySpec(invalid));
    expect(err.message).toMatch(/^invalid study spec .*archs/);
    expect(err.message).not.toContain('\n');
  });

  it('refuses a time budget it cannot read, or beside --check or --queue, and a backend it does not know', () => {
    for (const bad of ['9', '9 minutes', '-3m', '0s']) expect(refusal(() => prepare({ timeBudget: bad })).message).toBe(`--time-budget expects a duration such as 90s, 9m, 1.5h or 1h30m (got '${bad}')`);
    expect(prepare({ timeBudget: '9m' }).budgetSeconds).toBe(540);
    expect(refusal(() => prepare({ timeBudget: '9m', check: 'wasm' })).message).toBe('--time-budget slices a study trained here; run it without --check and --queue');
    expect(refusal(() => prepare({ timeBudget: '9m', queue: 'redis://127.0.0.1:6379/0' })).message).toMatch(/^--time-budget slices a study/);
    expect(refusal(() => prepare({ check: 'gpu-please' })).message).toMatch(/^--check expects one of auto, .* \(got 'gpu-please'\)$/);
    const checked = prepare({ check: 'wasm' });
    expect(checked.check?.backend).toBe('wasm');
    expect(checked.check?.spec).toEqual(checkSpecOf(NAMED_STUDIES.quick, 'wasm'));
  });

  it('counts a dry run as the planner plans it, with the check’s plan added', async () => {
    const spec = NAMED_STUDIES.quick;
    const plan = planRuns(spec);
    const expected = { runs: plan.length, groups: (await planGroups(spec, plan)).length, steps: plan.reduce((a, r) => a + r.config.steps, 0) };
    expect(await planStudyCommand(prepare({}))).toEqual(expected);
    const check = checkSpecOf(spec, 'wasm');
    const checkPlan = planRuns(check);
    const withCheck = await planStudyCommand(prepare({ check: 'wasm' }));
    expect(withCheck).toEqual({
      runs: expected.runs + checkPlan.length,
      groups: expected.groups + (await planGroups(check, checkPlan)).length,
      steps: expected.steps + checkPlan.reduce((a, r) => a + r.config.steps, 0),
    });
  });

  it('plans one part of the paper study with the runs it depends on, lists every part in a dry run, and refuses a part it lacks or beside --check or --queue', async () => {
    const paper = NAMED_STUDIES.paper;
    const whole = await planStudyCommand(prepare({}, 'paper'));
    expect(whole.runs).toBe(planRuns(paper).length);
    expect(whole.parts!.map((p) => [p.name, p.runs])).toEqual(paper.parts!.map((p) => [p.name, partKeys(paper, p.name).size]));
    const part = await planStudyCommand(prepare({ part: 'interventions' }, 'paper'));
    expect(part.part).toBe('interventions');
    expect(part.runs).toBe(partKeys(paper, 'interventions').size); // its controls' mix runs are in the part
    const baselines = await planStudyCommand(prepare({ part: 'baselines' }, 'paper'));
    expect(baselines.runs).toBe(partKeys(paper, 'baselines').size);
    expect(baselines.steps).toBe(planRuns(paper).filter((r) => partKeys(paper, 'baselines').has(r.key)).reduce((a, r) => a + r.config.steps, 0));
    // Detection controls belong to no part: a part's count is its own runs.
    const withControls = path.join(tmp.dir, 'controls.json');
    writeFileSync(withControls, JSON.stringify({ name: 'ctl', preset: 'fast', tasks: ['mod-add'], archs: ['transformer', 'mlp'], conditions: ['baseline'], seeds: [0, 1], controls: [{ name: 'wd0', overrides: { weightDecay: 0 } }], parts: [{ name: 'tf', archs: ['transformer'] }] }));
    const ctl = await planStudyCommand(prepare({}, withControls));
    expect(ctl.parts).toEqual([expect.objectContaining({ name: 'tf', runs: 2 })]);
    expect(ctl.runs).toBe(4); // two baselines and their two controls, all transformer
    expect(refusal(() => prepare({ part: 'pilot' }, 'paper')).message).toBe("study paper has no part 'pilot': its parts are baselines, interventions");
    expect(refusal(() => prepare({ part: 'baselines' })).message).toBe('study quick has no parts');
    expect(refusal(() => prepare({ part: 'baselines', check: 'wasm' }, 'paper')).message).toMatch(/^--part trains one part here; run it without --check and --queue/);
  });

  it('refuses bad workers, --check on a queue and a queue URL it cannot use before opening anything', async () => {
    const library = path.join(tmp.dir, 'lib');
    const signal = new AbortController().signal;
    const started: unknown[] = [];
    const run = (input: StudyCommandInput) => runStudyCommand(prepare({ library, ...input }), { signal, onStart: (s) => started.push(s) });
    for (const workers of ['0', '1.5', 'many']) await expect(run({ workers })).rejects.toThrow(new StudyCommandError(`--workers expects a positive integer (got '${workers}')`));
    await expect(run({ check: 'wasm', queue: 'redis://127.0.0.1:6379/0' })).rejects.toThrow(new StudyCommandError('--check trains on this machine; run it without --queue'));
    const badUrl = run({ queue: 'http://127.0.0.1:1/0' });
    await expect(badUrl).rejects.toBeInstanceOf(StudyCommandError);
    expect(started).toEqual([]);
    expect(existsSync(library)).toBe(false);
  });
});
