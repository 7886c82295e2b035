import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import type { BackendChoice } from '../core/schema/backend-choices.js';
import { chooseBySpeed, shapeKey, worthMeasuring } from '../core/train/backend-speed.js';
import { selectBackend } from '../core/train/backend.js';
import { probeWebGpu } from '../core/train/gpu/webgpu.js';
import { tempDir } from './helpers/tmp.js';

/**
 * `auto` by measured speed (core/train/backend-speed.ts): the fastest candidate wins, figures are
 * kept per machine and shape and not measured twice, a failing candidate is recorded and passed
 * over, a damaged file is measured again; and, on the adapter `npm test` provides, a real
 * measurement in child processes chooses between webgpu and wasm.
 */
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 40 });

describe('choosing a backend by measured speed', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const figures: Record<string, number> = { webgpu: 0.5, 'wasm+openblas': 2 };

  function counting(fail: string[] = []) {
    const calls: string[] = [];
    return {
      calls,
      measure: async (b: BackendChoice) => {
        calls.push(b);
        if (fail.includes(b)) throw new Error(`${b} would not load`);
        return figures[b];
      },
    };
  }

  it('measures each candidate once, keeps the figures, and picks the fastest', async () => {
    const file = path.join(tmp.dir, 'speed.json');
    const m = counting();
    const args = { file, shape: shapeKey(tiny, 4), machine: 'm1', candidates: ['webgpu', 'wasm+openblas'] as BackendChoice[], measure: m.measure };
    const first = await chooseBySpeed(args);
    expect(first).toMatchObject({ backend: 'webgpu', measured: true });
    expect(first.note).toMatch(/webgpu 0\.500 ms, wasm\+openblas 2\.00 ms; measured now/);
    const second = await chooseBySpeed(args);
    expect(second).toMatchObject({ backend: 'webgpu', measured: false });
    expect(m.calls).toEqual(['webgpu', 'wasm+openblas']);
    // Another machine (a new driver, another GPU, another release) or shape measures again.
    await chooseBySpeed({ ...args, machine: 'm2' });
    await chooseBySpeed({ ...args, shape: shapeKey(tiny, 8) });
    expect(m.calls).toHaveLength(6);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { entries: unknown[] }).entries).toHaveLength(3);
  });

  it('records a candidate that fails, passes over it, and says so; all failing is an error', async () => {
    const file = path.join(tmp.dir, 'failing.json');
    const choice = await chooseBySpeed({ file, shape: 's', machine: 'm', candidates: ['webgpu', 'wasm+openblas'], measure: counting(['webgpu']).measure });
    expect(choice.backend).toBe('wasm+openblas');
    expect(choice.note).toMatch(/webgpu failed/);
    expect(choice.entry.figures[0]).toMatchObject({ backend: 'webgpu', msPerRunStep: null, error: 'webgpu would not load' });
    await expect(chooseBySpeed({ file, shape: 's2', machine: 'm', candidates: ['webgpu'], measure: counting(['webgpu']).measure })).rejects.toThrow(/no backend trained this shape \(webgpu: webgpu would not load\)/);
  });

  it('measures again over a damaged file', async () => {
    const file = path.join(tmp.dir, 'damaged.json');
    writeFileSync(file, '{ not json');
    const m = counting();
    expect((await chooseBySpeed({ file, shape: 's', machine: 'm', candidates: ['webgpu', 'wasm+openblas'], measure: m.measure })).backend).toBe('webgpu');
    expect(m.calls).toHaveLength(2);
  });

  it('measures only where a device backend competes with another', () => {
    expect(worthMeasuring(['wasm+openblas'])).toBe(false);
    expect(worthMeasuring(['wasm+openblas', 'wasm'])).toBe(false);
    expect(worthMeasuring(['webgpu', 'wasm+openblas'])).toBe(true);
    expect(worthMeasuring(['tensorflow', 'wasm'])).toBe(true);
  });
});

const probe = await probeWebGpu();
describe.runIf(probe.ok)('auto on this machine, webgpu against wasm (measured in child processes)', () => {
  const tmp = tempDir();
  afterEach(() => vi.unstubAllEnvs());
  afterAll(() => tmp.cleanup());

  it('trains a few steps of the run’s shape on each, keeps the figures and picks the faster', async () => {
    vi.stubEnv('GROKSCOPE_AUTO_CANDIDATES', 'webgpu,wasm');
    const file = path.join(tmp.dir, 'backend-speed.json');
    const info = await selectBackend('auto', { file, config: tiny, group: 2 });
    const { entries } = JSON.parse(readFileSync(file, 'utf8')) as { entries: { figures: { backend: string; msPerRunStep: number }[] }[] };
    const figures = entries[0].figures;
    expect(figures.map((f) => f.backend)).toEqual(['webgpu', 'wasm']);
    for (const f of figures) expect(f.msPerRunStep).toBeGreaterThan(0);
    const fastest = figures.reduce((a, b) => (b.msPerRunStep < a.msPerRunStep ? b : a)).backend;
    expect(info.name).toBe(fastest);
    expect(info.note).toMatch(/^auto: measured fastest per run-step for this shape \(webgpu [\d.]+ ms, wasm [\d.]+ ms; measured now/);
  }, 240_000);
});
