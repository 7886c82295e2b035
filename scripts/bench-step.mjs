#!/usr/bin/env node
/**
 * `npm run bench:step`: median ms per training step and per evaluation for the quick and
 * reference presets, both architectures, on every backend that loads here. Each measurement is a
 * separate `grokscope bench` process (one tfjs backend per process). Prints a table and, last,
 * one JSON array. Pass --fast to time fewer steps.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/grokscope.js', import.meta.url));
const fast = process.argv.includes('--fast');
const results = [];
for (const backend of ['tensorflow', 'wasm', 'cpu']) {
  for (const preset of ['quick', 'reference']) {
    for (const arch of ['transformer', 'mlp']) {
      const steps = preset === 'reference' ? (backend === 'cpu' || fast ? 3 : 10) : fast ? 10 : 50;
      const r = spawnSync(process.execPath, [bin, 'bench', '--preset', preset, '--arch', arch, '--backend', backend, '--steps', String(steps), '--json'], { encoding: 'utf8' });
      if (r.status !== 0) {
        process.stderr.write(`${backend}: unavailable (${r.stderr.trim().split('\n').pop()})\n`);
        break;
      }
      const line = r.stdout.trim().split('\n').pop();
      const out = JSON.parse(line);
      results.push(out);
      process.stderr.write(`${backend.padEnd(10)} ${preset.padEnd(9)} ${arch.padEnd(11)} ${String(out.ms_per_step_median).padStart(9)} ms/step (min ${out.ms_per_step_min})  eval ${out.ms_per_eval_median} ms\n`);
    }
    if (results.length === 0 || results[results.length - 1].backend !== backend) break;
  }
}
process.stderr.write(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}\n`);
process.stdout.write(`${JSON.stringify(results)}\n`);
