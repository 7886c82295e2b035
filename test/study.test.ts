import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAMED_STUDIES, planRuns } from '../core/study/spec.js';
import { StudySpecSchema } from '../core/schema/study-spec.js';
import { tempDir } from './helpers/tmp.js';
import { Library } from '../core/library/library.js';
import { engineOf } from '../core/runs/group-size.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'grokscope.js');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function study(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'study', ...args, '--library', path.join(tmp.dir, 'lib')], { cwd: tmp.dir, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('study specs', () => {
  it('plans every task × arch × seed × condition, norm-matched after its mix run', () => {
    const plan = planRuns(NAMED_STUDIES.quick);
    expect(plan).toHaveLength(60);
    const nm = plan.filter((r) => r.config.condition === 'norm-matched');
    expect(nm).toHaveLength(20);
    for (const r of nm) expect(r.dependsOn).toBe(r.key.replace('norm-matched', 'mix'));
    expect(plan.filter((r) => r.config.condition === 'mix').every((r) => r.config.earlyStopEvals === 0)).toBe(true);
    expect(plan.filter((r) => r.config.condition !== 'mix').every((r) => r.config.earlyStopEvals === NAMED_STUDIES.quick.earlyStopEvals)).toBe(true);
  });

  it('rejects specs with norm-matched but no mix, or no baseline', () => {
    const base = { ...NAMED_STUDIES.quick };
    expect(StudySpecSchema.safeParse({ ...base, conditions: ['baseline', 'norm-matched'] }).success).toBe(false);
    expect(StudySpecSchema.safeParse({ ...base, conditions: ['mix'] }).success).toBe(false);
  });
});

describe('a tiny study end to end', () => {
  const spec = {
    name: 'tiny',
    preset: 'fast',
    overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 150, evalEvery: 10, spectrumEvery: 50, lr: 0.01 },
    tasks: ['mod-add'],
    archs: ['transformer', 'mlp'],
    conditions: ['baseline', 'mix', 'norm-matched'],
    seeds: [0, 1],
    earlyStopEvals: 5,
  };
  const specFile = path.join(tmp.dir, 'tiny.json');
  writeFileSync(specFile, JSON.stringify(spec));

  it('says what it would train with --dry-run, and trains nothing', async () => {
    const r = study([specFile, '--dry-run', '--json']);
    expect(r.code).toBe(0);
    // `auto` on a CPU: one run per group; on a GPU, per architecture one group of baseline and mix
    // runs and one of norm-matched runs (core/runs/group-size.ts).
    const groups = (await engineOf('auto')) === 'host' ? 12 : 4;
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ runs: 12, groups, steps: 12 * 150 });
    expect(existsSync(path.join(tmp.dir, `study-${spec.name}`))).toBe(false); // no report folder
  });

  it('trains every run through the pool and writes summary.json, report.html and figures', () => {
    const r = study([specFile, '--workers', '2', '--out', 'report', '--json']);
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { summary: string; runs: number; claims: Record<string, string> };
    expect(out.runs).toBe(12);
    expect(Object.keys(out.claims).sort()).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C8']);
    for (const v of Object.values(out.claims)) expect(['reproduced', 'refuted', 'inconclusive', 'not-run']).toContain(v);
    expect(out.claims.C6).toBe('not-run'); // no S5 in this spec
    const stability = (out as unknown as { stability: Record<string, number> }).stability;
    for (const k of Object.keys(out.claims)) {
      expect(stability[k]).toBeGreaterThanOrEqual(0);
      expect(stability[k]).toBeLessThanOrEqual(1);
    }
    expect(stability.C6).toBe(1); // a claim not run is not run in every resample
    const summary = JSON.parse(readFileSync(out.summary, 'utf8'));
    expect(summary.groups).toHaveLength(6);
    expect(summary.groups.every((g: { n: number }) => g.n === 2)).toBe(true);
    expect(summary.runs).toHaveLength(12);
    const html = readFileSync(path.join(tmp.dir, 'report', 'report.html'), 'utf8');
    expect(html).toContain('echarts');
    expect(html).not.toMatch(/<script[^>]+src=/); // self-contained
    const png = readFileSync(path.join(tmp.dir, 'report', 'figures', 'entropy-mod-add-transformer.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('checks every verdict on a second backend with --check', () => {
    const r = study([specFile, '--workers', '2', '--out', 'report-check', '--check', 'wasm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { claims: Record<string, string>; check: { backend: string; verdicts: Record<string, string>; agreed: number } };
    expect(out.check.backend).toBe('wasm');
    expect(Object.keys(out.check.verdicts).sort()).toEqual(Object.keys(out.claims).sort());
    const agreed = Object.keys(out.claims).filter((k) => out.claims[k] === out.check.verdicts[k]).length;
    expect(out.check.agreed).toBe(agreed);
    expect(out.check.verdicts.C6).toBe('not-run');
    const summary = JSON.parse(readFileSync(path.join(tmp.dir, 'report-check', 'summary.json'), 'utf8'));
    expect(summary.check.study).toBe('tiny.check-wasm');
    expect(summary.check.studyBackends.length).toBeGreaterThan(0);
    expect(readFileSync(path.join(tmp.dir, 'report-check', 'report.html'), 'utf8')).toContain('on wasm');
    // The check's runs are their own study: trained on wasm, in the same library.
    expect(study(['quick', '--check', 'gpu-please']).stderr).toMatch(/--check expects one of auto, tensorflow, webgpu, wasm\+openblas, wasm, cpu \(got 'gpu-please'\)/);
  }, 240_000);

  it('packs runs into run groups of the spec’s groupSize, and records exactly the runs trained one by one', async () => {
    const grouped = { ...spec, name: 'tiny-grouped', groupSize: 4 };
    const file = path.join(tmp.dir, 'tiny-grouped.json');
    writeFileSync(file, JSON.stringify(grouped));
    // Per architecture: baseline and mix (4 runs, one group), then norm-matched (2 runs, one group).
    expect(JSON.parse(study([file, '--dry-run', '--json']).stdout.trim().split('\n').pop()!)).toEqual({ runs: 12, groups: 4, steps: 12 * 150 });
    const r = study([file, '--workers', '2', '--out', 'report-grouped', '--json']);
    expect(r.code, r.stderr).toBe(0);
    await Library.with(path.join(tmp.dir, 'lib'), async (lib) => {
      const one = await lib.getStudyRuns('tiny');
      const packed = await lib.getStudyRuns('tiny-grouped');
      expect([...packed.keys()].sort()).toEqual([...one.keys()].sort());
      for (const [key, id] of one) {
        const a = await lib.getRun(id);
        const b = await lib.getRun(packed.get(key)!);
        expect(b.status, key).toBe('completed');
        expect(b.backend).toBe(a.backend);
        expect(await lib.getMetrics(b.id), key).toEqual(await lib.getMetrics(a.id));
        expect(b.events, key).toEqual(a.events);
      }
    });
  }, 240_000);

  it('resumes: a second invocation reuses the completed runs', () => {
    const before = JSON.parse(readFileSync(path.join(tmp.dir, 'report', 'summary.json'), 'utf8'));
    const r = study([specFile, '--out', 'report2', '--json']);
    expect(r.code).toBe(0);
    const after = JSON.parse(readFileSync(path.join(tmp.dir, 'report2', 'summary.json'), 'utf8'));
    expect(after.runs.map((x: { id: string }) => x.id).sort()).toEqual(before.runs.map((x: { id: string }) => x.id).sort());
  });

  it('refuses a different spec under the same name, and bad specs, in one line', () => {
    writeFileSync(specFile, JSON.stringify({ ...spec, seeds: [0] }));
    const r = study([specFile]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^grokscope: study 'tiny' already exists .* with a different spec/);
    writeFileSync(specFile, JSON.stringify({ ...spec, archs: ['cnn'] }));
    const bad = study([specFile]);
    expect(bad.stderr.trim()).toMatch(/^grokscope: invalid study spec .*archs/);
    expect(existsSync(path.join(tmp.dir, 'study-tiny'))).toBe(false);
    expect(study(['nonsense']).stderr.trim()).toMatch(/unknown study 'nonsense'/);
  });

  it('says so when a built-in study changed since the library ran it', async () => {
    await Library.with(path.join(tmp.dir, 'lib'), (lib) => lib.upsertStudy('quick', JSON.stringify({ ...NAMED_STUDIES.quick, seeds: [0, 1, 2, 3, 4] }), 'completed'));
    const r = study(['quick']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^grokscope: the built-in study 'quick' has changed since this library ran it .*--library DIR/);
  });
});
