#!/usr/bin/env node
/**
 * `npm run bench:step [-- --runs N] [-- --fast]`: median ms per training step and per evaluation
 * for the quick and reference presets, both architectures, on every backend that loads here.
 * Each measurement is a separate `grokscope bench` process (one tfjs backend per process),
 * repeated N times (default 3); the table shows the median of the per-run medians and the
 * spread. Prints a table on stderr and, last on stdout, one JSON array.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/grokscope.js', import.meta.url));
const fast = process.argv.includes('--fast');
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const results = [];
for (const backend of ['tensorflow', 'webgpu', 'wasm+openblas', 'wasm', 'cpu']) {
  let available = true;
  for (const preset of ['quick', 'reference']) {
    for (const arch of ['transformer', 'mlp']) {
      const steps = preset === 'reference' ? (backend === 'cpu' || fast ? 3 : 10) : fast ? 10 : 50;
      const per = [];
      const evals = [];
      for (let i = 0; i < (backend === 'cpu' ? 1 : runs); i++) {
        const r = spawnSync(process.execPath, [bin, 'bench', '--preset', preset, '--arch', arch, '--backend', backend, '--steps', String(steps), '--json'], { encoding: 'utf8' });
        if (r.status !== 0) {
          process.stderr.write(`${backend}: unavailable (${r.stderr.trim().split('\n').pop()})\n`);
          available = false;
          break;
        }
        const out = JSON.parse(r.stdout.trim().split('\n').pop());
        per.push(out.ms_per_step_median);
        evals.push(out.ms_per_eval_median);
      }
      if (!available) break;
      const row = { backend, preset, arch, runs: per.length, steps, ms_per_step_median: +median(per).toFixed(3), ms_per_step_runs: per, ms_per_eval_median: +median(evals).toFixed(3) };
      results.push(row);
      process.stderr.write(
        `${backend.padEnd(14)} ${preset.padEnd(9)} ${arch.padEnd(11)} ${String(row.ms_per_step_median).padStart(9)} ms/step (runs: ${per.map((x) => x.toFixed(1)).join(', ')})  eval ${row.ms_per_eval_median} ms\n`,
      );
    }
    if (!available) break;
  }
}
process.stderr.write(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}\n`);
process.stdout.write(`${JSON.stringify(results)}\n`);
