/**
 * Measures candidate `quick` presets: trains each (config × seed) in-process on the default CPU
 * backend and prints T_mem, T_grok (50 %, 95 %), the plateau (T_rise: the first evaluation at test
 * accuracy ≥ 20 %, far above chance for p ≥ 11; plateau = T_rise − T_mem), whether the plateau
 * covers the first half of [T_mem, T_grok] (meetsRule), and wall time. Used to choose the quick preset;
 * results go to docs/presets.md. Usage: [SWEEP_BACKEND=wasm] npx tsx scripts/sweep-quick.ts '<json overrides>' seeds...
 */
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import type { BackendChoice } from '../core/schema/backend-choices.js';
import { Trainer } from '../core/train/trainer.js';
import { computeEvents, type EventSeriesPoint } from '../core/analysis/events.js';

const overrides = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const seeds = process.argv.slice(3).map(Number);
// The backend: `auto` unless SWEEP_BACKEND names one (the backend-to-backend comparison in docs/benchmarks.md).
const backend = await selectBackend((process.env.SWEEP_BACKEND ?? 'auto') as BackendChoice);
for (const seed of seeds.length ? seeds : [0]) {
  const config = parseRunConfig({ ...PRESETS.quick, ...overrides, seed });
  const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.splitSeed ?? seed });
  const trainer = new Trainer(config, ds);
  const series: EventSeriesPoint[] = [];
  const t0 = performance.now();
  let line = '';
  for (;;) {
    if (trainer.step % config.evalEvery === 0) {
      const r = await trainer.evaluate(false);
      series.push({ step: r.step, train_acc: r.train_acc, test_acc: r.test_acc, entropy: r.probes[config.probe]?.entropy });
      line = `${r.step}: train ${r.train_acc.toFixed(3)} test ${r.test_acc.toFixed(3)} H ${Object.entries(r.probes).map(([k, v]) => `${k}=${v!.entropy.toFixed(3)}`).join(' ')} wn ${r.weight_norm.toFixed(1)}`;
      if (r.step % (config.evalEvery * 25) === 0) console.error(line);
      if (r.test_acc >= 0.99 && series.length > 5) break;
    }
    if (trainer.step >= config.steps) break;
    await trainer.trainStep();
  }
  const secs = (performance.now() - t0) / 1000;
  const ev = computeEvents(series, config);
  const rise = series.find((p) => p.test_acc >= 0.2)?.step ?? null;
  const plateau = rise !== null && ev.T_mem !== null ? rise - ev.T_mem : null;
  // The science issue's rule for a plateau: test accuracy < 20 % for at least the first half of
  // [T_mem, T_grok], and a grok within the budget.
  const meetsRule = plateau !== null && ev.T_mem !== null && ev.T_grok !== null && plateau >= (ev.T_grok - ev.T_mem) / 2;
  console.log(JSON.stringify({ overrides, seed, backend: backend.name, steps: trainer.step, secs: +secs.toFixed(1), T_rise: rise, plateau, meetsRule, ...ev, last: line }));
  trainer.dispose();
}
