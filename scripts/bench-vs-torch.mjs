#!/usr/bin/env node
/**
 * npm run bench:vs-torch [-- --runs N] [-- --groups 1,10] [-- --backend B] [-- --device cuda]:
 * time the training step of the same configurations in Grokscope (`grokscope bench --group S`,
 * default backend or B) and in our PyTorch reference (scripts/torch_reference.py --group S: S
 * seeds stacked on a leading axis, as researchers stack them; Debian's python3-torch, installed
 * here with apt when missing and running as root), one after the other on this machine, N times
 * each; print medians per run-step and the ratio Grokscope / PyTorch for the quick and reference
 * presets, both architectures, at each group size S.
 * Not part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptGet, aptInstall } from './apt.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const runs = Number(arg('--runs', '3')) || 3;
const groups = arg('--groups', '1').split(',').map(Number);
const backend = arg('--backend', 'auto');
const device = arg('--device', 'cpu');
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function haveTorch() {
  return spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}
if (!haveTorch()) {
  const apt = aptGet();
  if (apt) {
    process.stderr.write('installing python3-torch with apt (once)…\n');
    aptInstall(apt, ['python3-torch', 'libopenblas0-pthread']);
  }
  if (!haveTorch()) {
    process.stderr.write(`PyTorch is not importable by ${python}; install Debian's python3-torch and run again\n`);
    process.exit(1);
  }
}

function json(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

console.log(`machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}; ${runs} runs each, medians of per-run medians; torch on ${device}`);
console.log('preset     arch         S    grokscope backend        ms/run-step   torch ms/run-step (threads)  torch 1 thread   ratio (vs torch default)');
for (const preset of ['quick', 'reference']) {
  for (const arch of ['transformer', 'mlp']) {
    for (const group of groups) {
      const steps = String(Math.max(3, Math.ceil((preset === 'reference' ? 10 : 40) / group)));
      const g = [];
      const t = [];
      const t1 = [];
      let used = '';
      let threads = 0;
      const torchArgs = [path.join(root, 'scripts', 'torch_reference.py'), '--preset', preset, '--arch', arch, '--steps', steps, '--group', String(group), '--device', device];
      for (let i = 0; i < runs; i++) {
        const ours = json(process.execPath, [path.join(root, 'bin', 'grokscope.js'), 'bench', '--preset', preset, '--arch', arch, '--steps', steps, '--group', String(group), '--backend', backend, '--json']);
        used = ours.backend;
        g.push(ours.ms_per_run_step);
        const theirs = json(python, torchArgs);
        threads = theirs.threads;
        t.push(theirs.ms_per_run_step);
        t1.push(device === 'cpu' ? json(python, [...torchArgs, '--threads', '1']).ms_per_run_step : NaN);
      }
      const [gm, tm, t1m] = [median(g), median(t), median(t1)];
      console.log(
        `${preset.padEnd(10)} ${arch.padEnd(12)} ${String(group).padEnd(4)} ${used.padEnd(24)} ${gm.toFixed(3).padStart(10)}   ${tm.toFixed(3).padStart(10)} (${threads})              ${Number.isNaN(t1m) ? '     —' : t1m.toFixed(3).padStart(8)}      ${(gm / tm).toFixed(2)}`,
      );
    }
  }
}
