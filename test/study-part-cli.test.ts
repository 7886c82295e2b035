import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { Library } from '../core/library/library.js';

/**
 * `grokscope study SPEC --part NAME` on a tiny spec with two parts: the first invocation trains
 * only its part's runs into the study, the second the other part's, and the study then holds
 * every planned run once, as one uninterrupted study would.
 */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const spec = {
  name: 'parts',
  preset: 'fast',
  overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 40, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 20, lr: 0.01 },
  tasks: ['mod-add'],
  archs: ['transformer', 'mlp'],
  conditions: ['baseline'],
  seeds: [0],
  parts: [
    { name: 'tf', archs: ['transformer'] },
    { name: 'mlp', archs: ['mlp'] },
  ],
};
const specFile = path.join(tmp.dir, 'parts.json');
writeFileSync(specFile, JSON.stringify(spec));
const library = path.join(tmp.dir, 'lib');

const study = (args: string[]): CliResult => runCli(['study', specFile, '--library', library, '--workers', '1', '--out', path.join(tmp.dir, 'report'), ...args]);

const studyKeys = (): Promise<string[]> => Library.with(library, async (l) => [...(await l.getStudyRuns(spec.name)).keys()].sort());

describe('study --part', () => {
  it('trains one part, then the other, into the same study', async () => {
    const first = study(['--part', 'tf']);
    expect(first.code, first.stderr).toBe(0);
    expect(await studyKeys()).toEqual(['mod-add/transformer/baseline/s0']);
    const second = study(['--part', 'mlp']);
    expect(second.code, second.stderr).toBe(0);
    expect(await studyKeys()).toEqual(['mod-add/mlp/baseline/s0', 'mod-add/transformer/baseline/s0']);
    // The whole study now trains nothing new: both runs are completed.
    const whole = study([]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(await studyKeys()).toHaveLength(2);
    expect(study(['--part', 'nope']).stderr).toContain("study parts has no part 'nope': its parts are tf, mlp");
  });
});
