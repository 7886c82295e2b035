import { afterAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../core/schema/run-config.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'grokscope.js');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function cli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GROKSCOPE_LIBRARY: path.join(tmp.dir, 'lib'), ...env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function lastJson(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** A failure is one line on stderr, a non-zero exit, and no stack trace. */
function expectCleanError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const tiny = ['--p', '11', '--d-model', '16', '--heads', '2', '--d-mlp', '32', '--lr', '0.01', '--steps', '120', '--eval-every', '10', '--seed', '2'];

describe('grokscope CLI', () => {
  it('trains a tiny run end to end that memorises its training set', () => {
    const r = cli(['run', ...tiny, '--json']);
    expect(r.code).toBe(0);
    const out = lastJson(r.stdout) as {
      id: string;
      status: string;
      backend: string;
      steps: number;
      final: { train_acc: number; test_acc: number; entropy: Record<string, number> };
      events: { T_mem: number | null };
    };
    expect(out.status).toBe('completed');
    expect(out.steps).toBe(120);
    expect(['wasm+openblas', 'wasm', 'cpu', 'tensorflow']).toContain(out.backend);
    expect(out.final.train_acc).toBe(1);
    expect(out.events.T_mem).not.toBeNull();
    expect(Object.keys(out.final.entropy).sort()).toEqual(['attn.out', 'embed', 'mlp.hidden', 'resid.final']);
    for (const h of Object.values(out.final.entropy)) expect(h).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/120\/120/); // the progress bar reached the end

    const list = lastJson(cli(['list', '--json']).stdout) as { id: string; status: string }[];
    expect(list.map((x) => x.id)).toContain(out.id);

    const show = lastJson(cli(['show', out.id.slice(0, -2), '--json']).stdout) as {
      id: string;
      metrics: { step: number; test_acc: number; entropy: Record<string, number> }[];
      events: Record<string, number | boolean | null>;
    };
    expect(show.id).toBe(out.id);
    expect(show.metrics.map((m) => m.step)).toEqual(Array.from({ length: 13 }, (_, i) => i * 10));
    expect(show.metrics[12].entropy['resid.final']).toBeCloseTo(out.final.entropy['resid.final'], 12);
    // The events, recomputed when read, carry the onset markers and the warning's leads.
    for (const k of ['T_mem', 'T_rise', 'T_loss_peak', 'T_grok_50', 'T_grok', 'T_cross', 'lead', 'lead_rise', 'lead_grok_50', 'test_acc_at_cross']) expect(show.events, k).toHaveProperty(k);
    expect(typeof show.events.below_at_mem).toBe('boolean');
    // T_rise: the first evaluation with test accuracy ≥ chance + 0.1·(1 − chance), chance 1/11.
    expect(show.events.T_rise).toBe(show.metrics.find((m) => m.test_acc >= 1 / 11 + 0.1 * (1 - 1 / 11))?.step ?? null);
    const text = cli(['show', out.id]).stdout;
    const v = (x: number | boolean | null) => (x === null ? '—' : String(x));
    expect(text).toContain(`events     T_mem ${v(show.events.T_mem)}  T_rise ${v(show.events.T_rise)}  T_loss_peak ${v(show.events.T_loss_peak)}  T_grok_50 ${v(show.events.T_grok_50)}  T_grok ${v(show.events.T_grok)}`);
    expect(text).toMatch(show.events.below_at_mem ? /warning {4}T_cross — \(below H̃\* [\d.]+, configured, at memorisation, on resid\.final\)/ : new RegExp(`warning {4}T_cross ${v(show.events.T_cross)} \\(H̃\\* [\\d.]+, configured, on resid\\.final\\)`));
    expect(text).toMatch(new RegExp(`lead vs T_rise ${v(show.events.lead_rise)}, vs T_grok ${v(show.events.lead)} {2}test acc at T_cross (—|0\\.\\d{3}|1\\.000)\n`));

    const csvFile = path.join(tmp.dir, 'm.csv');
    expect(cli(['export-csv', out.id, '-o', csvFile]).code).toBe(0);
    const csv = readFileSync(csvFile, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(14);
    expect(csv[0]).toContain('entropy.resid.final');
  });

  it('takes a JSON config file under the flags', () => {
    const file = path.join(tmp.dir, 'c.json');
    writeFileSync(file, JSON.stringify({ p: 7, dModel: 8, nHeads: 2, dMlp: 16, steps: 20, evalEvery: 10, arch: 'mlp' }));
    const r = cli(['run', '--config', file, '--seed', '9', '--json']);
    expect(r.code).toBe(0);
    const out = lastJson(r.stdout) as { final: { entropy: Record<string, number> }; steps: number };
    expect(out.steps).toBe(20);
    expect(Object.keys(out.final.entropy).sort()).toEqual(['embed', 'mlp.hidden', 'resid.final']);
  });

  it('names the problem in one line for bad flags, configs and runs', () => {
    expectCleanError(cli(['run', '--p', '12']), /p: must be a prime/);
    expectCleanError(cli(['run', '--steps', 'ten']), /--steps expects an integer/);
    expectCleanError(cli(['run', '--task', 'mod-pow']), /task/);
    expectCleanError(cli(['run', '--d-model', '30', '--heads', '4']), /nHeads: dModel \(30\) must be divisible/);
    expectCleanError(cli(['run', '--config', path.join(tmp.dir, 'missing.json')]), /cannot read config .*ENOENT/);
    const bad = path.join(tmp.dir, 'bad.json');
    writeFileSync(bad, '{"lr": -1,');
    expectCleanError(cli(['run', '--config', bad]), /not valid JSON/);
    writeFileSync(bad, '{"lr": -1, "colour": "red"}');
    expectCleanError(cli(['run', '--config', bad]), /invalid run config.*lr: .*colour|invalid run config.*colour/);
    expectCleanError(cli(['run', '--condition', 'norm-matched', '--steps', '5']), /normTargetRun: a norm-matched run needs/);
    expectCleanError(cli(['run', '--condition', 'norm-matched', '--norm-target', 'nope', '--steps', '5']), /no run 'nope'/);
    expectCleanError(cli(['run', '--condition', 'mix', '--mix-strength', '2']), /mixStrength: α of the orthogonal mix must be in \[0, 1\]/);
    expectCleanError(cli(['run', '--bogus']), /unknown option '--bogus'/);
    expectCleanError(cli(['show', 'no-such-run']), /no run 'no-such-run'/);
    expectCleanError(cli(['run', '--resume', 'no-such-run']), /no run 'no-such-run'/);
    expect(existsSync(path.join(tmp.dir, 'lib'))).toBe(true);
    // None of the failures above left a run behind.
    const runs = lastJson(cli(['list', '--json']).stdout) as { status: string }[];
    expect(runs.filter((r) => r.status !== 'completed')).toEqual([]);
  });

  it('trains --seeds as one run group and prints one array; bench --group reports per run-step', () => {
    const seeds = tiny.filter((_, i) => tiny[i] !== '--seed' && tiny[i - 1] !== '--seed');
    const r = cli(['run', ...seeds, '--steps', '30', '--seeds', '0-1,5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout) as { id: string; status: string; steps: number; backend: string; final: { test_acc: number } }[];
    expect(out.map((o) => [o.status, o.steps])).toEqual([
      ['completed', 30],
      ['completed', 30],
      ['completed', 30],
    ]);
    expect(new Set(out.map((o) => o.id)).size).toBe(3);
    expect(out.map((o) => o.id.match(/-s(\d+)-/)![1])).toEqual(['0', '1', '5']);
    const shown = lastJson(cli(['show', out[2].id, '--json']).stdout) as { config: { seed: number } };
    expect(shown.config.seed).toBe(5);
    expectCleanError(cli(['run', '--seeds', '4-2']), /^grokscope: --seeds: the range 4-2 runs backwards$/);
    expectCleanError(cli(['run', '--seeds', 'x']), /^grokscope: --seeds expects seeds like 0-4 or 0,3,7 \(got 'x'\)$/);
    expectCleanError(cli(['run', '--seeds', '0-1', '--seed', '3']), /^grokscope: give either --seed or --seeds, not both$/);
    const b = cli(['bench', '--backend', 'wasm', '--group', '2', '--steps', '3', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const bench = lastJson(b.stdout) as { group: number; ms_per_run_step: number; ms_per_step_median: number; read_bytes_per_eval: number; read_bytes_per_spectrum_eval: number; host_ms_per_eval: number; eval_share: number; ms_per_eval_median: number; eval_every: number };
    expect(bench.group).toBe(2);
    expect(bench.ms_per_run_step).toBeCloseTo(bench.ms_per_step_median / 2, 2);
    // On plain wasm the tfjs graph reads the model out: every input's logits (mod-add at the quick preset's p) at least.
    const p = PRESETS.quick.p;
    expect(bench.read_bytes_per_eval).toBeGreaterThanOrEqual(p * p * p * 4);
    // A spectrum evaluation reads at least as much (every 2-D weight matrix too, on this graph).
    expect(bench.read_bytes_per_spectrum_eval).toBeGreaterThanOrEqual(bench.read_bytes_per_eval);
    expect(bench.host_ms_per_eval).toBeGreaterThan(0);
    expect(bench.host_ms_per_eval).toBeLessThanOrEqual(bench.ms_per_eval_median);
    expect(bench.eval_share).toBeCloseTo(bench.ms_per_eval_median / (bench.ms_per_eval_median + bench.eval_every * bench.ms_per_run_step), 3);
    expectCleanError(cli(['bench', '--group', '0']), /^grokscope: --group expects an integer from 1 to 1000 \(got '0'\)$/);
  });

  it('honours --library over the environment', () => {
    const other = path.join(tmp.dir, 'other');
    const r = cli(['list', '--json', '--library', other]);
    expect(r.code).toBe(0);
    expect(lastJson(r.stdout)).toEqual([]);
    expect(existsSync(path.join(other, 'grokscope.duckdb'))).toBe(true);
  });
});
