#!/usr/bin/env node
/**
 * `npm run bench:step [-- --runs N] [-- --fast] [-- --groups 1,5,10,30] [-- --backends a,b] [-- --presets quick]`:
 * median ms per run-step (a group step ÷ its S runs) and per evaluation for the quick and
 * reference presets, both architectures, at each group size S, on every backend that loads here
 * (or those named). Each measurement is a separate `grokscope bench --group S` process (one tfjs
 * backend per process), repeated N times (default 3); the table shows the median of the per-run
 * medians and the spread. A group step costs S run-steps, so larger groups time fewer group
 * steps (at least 3). The pure-JS `cpu` backend is timed at S = 1 only (seconds per step).
 * On webgpu each row also has what a group step sends to the device (dispatches, submits, reads)
 * and the backend note (which engine ran). Each row also has the evaluation's share of a run at
 * the preset's cadence (one evaluation per evalEvery run-steps; median over the runs). Prints a table on stderr and, last on stdout, one JSON array.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/grokscope.js', import.meta.url));
const fast = process.argv.includes('--fast');
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
const listArg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1].split(',') : fallback;
};
const groups = listArg('--groups', ['1', '5', '10', '30']).map(Number);
const backends = listArg('--backends', ['tensorflow', 'webgpu', 'wasm+openblas', 'wasm', 'cpu']);
const presets = listArg('--presets', ['quick', 'reference']);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const results = [];
let lastNote = '';
for (const backend of backends) {
  let available = true;
  for (const preset of presets) {
    for (const arch of ['transformer', 'mlp']) for (const group of backend === 'cpu' ? [1] : groups) {
      const base = preset === 'reference' ? (backend === 'cpu' || fast ? 3 : 10) : fast ? 10 : 50;
      const steps = Math.max(3, Math.ceil(base / group));
      const per = [];
      const evals = [];
      const shares = [];
      let counts = null;
      for (let i = 0; i < (backend === 'cpu' ? 1 : runs); i++) {
        const r = spawnSync(process.execPath, [bin, 'bench', '--preset', preset, '--arch', arch, '--backend', backend, '--steps', String(steps), '--group', String(group), '--json'], { encoding: 'utf8' });
        if (r.status !== 0) {
          process.stderr.write(`${backend}: unavailable (${r.stderr.trim().split('\n').pop()})\n`);
          available = false;
          break;
        }
        const out = JSON.parse(r.stdout.trim().split('\n').pop());
        lastNote = out.backend_note;
        per.push(out.ms_per_run_step);
        evals.push(out.ms_per_eval_median);
        shares.push(out.eval_share);
        if (out.dispatches_per_step !== null && out.dispatches_per_step !== undefined) counts = { dispatches_per_step: out.dispatches_per_step, submits_per_step: out.submits_per_step, reads_per_step: out.reads_per_step };
      }
      if (!available) break;
      const row = { backend, preset, arch, group, runs: per.length, steps, ms_per_run_step: +median(per).toFixed(3), ms_per_run_step_runs: per, ms_per_eval_median: +median(evals).toFixed(3), eval_share: +median(shares).toFixed(4), ...(counts ?? {}), backend_note: lastNote };
      results.push(row);
      process.stderr.write(
        `${backend.padEnd(14)} ${preset.padEnd(9)} ${arch.padEnd(11)} S=${String(group).padEnd(3)} ${String(row.ms_per_run_step).padStart(9)} ms/run-step (runs: ${per.map((x) => x.toFixed(2)).join(', ')})  eval ${row.ms_per_eval_median} ms (${(100 * row.eval_share).toFixed(1)} % of a run)${counts ? `  ${counts.dispatches_per_step} dispatches, ${counts.submits_per_step} submits, ${counts.reads_per_step} reads a step` : ''}\n`,
      );
    }
    if (!available) break;
  }
}
process.stderr.write(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}\n`);
process.stdout.write(`${JSON.stringify(results)}\n`);
