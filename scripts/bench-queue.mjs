#!/usr/bin/env node
/**
 * `npm run bench:queue [-- --jobs N] [-- --workers 1,2,4] [-- --steps S]`: what the queue costs.
 * A study of N tiny baseline runs (p = 11, d 16, S steps: training is a small part) is trained
 * (1) on this machine without a queue, then (2) through a Redis of our own on a free loopback port
 * by 1, 2 and 4 local `grokscope worker` processes (one job at a time each), results through a
 * shared folder. Reports wall time, runs per minute, and the overhead per job against (1) at one
 * worker: (queue wall − local wall) / N — enqueue, a worker's start of the job (its own library,
 * the study runner), export, import and report. Prints a table on stderr and one JSON value last.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/grokscope.js', import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const jobs = Number(arg('--jobs', '12'));
const workerCounts = arg('--workers', '1,2,4').split(',').map(Number);
const steps = Number(arg('--steps', '40'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'grokscope-bench-queue-'));
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 50));
const url = `redis://127.0.0.1:${port}/0`;

const spec = (name) => ({
  name,
  preset: 'quick',
  overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps, evalEvery: 10, spectrumEvery: 20, lr: 0.01 },
  tasks: ['mod-add'],
  archs: ['transformer'],
  conditions: ['baseline'],
  seeds: Array.from({ length: jobs }, (_, i) => i),
  earlyStopEvals: 0,
});
const timed = (args) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`grokscope ${args.join(' ')}: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
};
const rows = [];
try {
  writeFileSync(path.join(dir, 'local.json'), JSON.stringify(spec('local')));
  const local = timed(['study', 'local.json', '--library', path.join(dir, 'lib-local'), '--workers', '1', '--out', 'r-local']);
  rows.push({ mode: 'local, 1 pool worker', workers: 1, seconds: local });
  for (const w of workerCounts) {
    const name = `queued-${w}`;
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(spec(name)));
    const workers = Array.from({ length: w }, (_, i) =>
      spawn(process.execPath, [bin, 'worker', '--queue', url, '--results', path.join(dir, 'results'), '--library', path.join(dir, `lib-w${w}-${i}`), '--workers', '1'], { stdio: 'ignore' }),
    );
    try {
      const seconds = timed(['study', `${name}.json`, '--queue', url, '--results', path.join(dir, 'results'), '--library', path.join(dir, `lib-c${w}`), '--out', `r-${name}`]);
      rows.push({ mode: 'queue', workers: w, seconds });
    } finally {
      for (const p of workers) p.kill('SIGTERM');
    }
  }
} finally {
  redis.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
const local = rows[0].seconds;
const out = rows.map((r) => ({ ...r, seconds: +r.seconds.toFixed(2), runsPerMinute: +((jobs * 60) / r.seconds).toFixed(1), ...(r.mode === 'queue' && r.workers === 1 ? { overheadPerJobSeconds: +((r.seconds - local) / jobs).toFixed(2) } : {}) }));
for (const r of out) process.stderr.write(`${r.mode.padEnd(22)} workers ${r.workers}  ${String(r.seconds).padStart(7)} s  ${String(r.runsPerMinute).padStart(6)} runs/min${r.overheadPerJobSeconds !== undefined ? `  overhead ${r.overheadPerJobSeconds} s/job` : ''}\n`);
process.stderr.write(`${jobs} runs of ${steps} steps; machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, node ${process.version}\n`);
process.stdout.write(`${JSON.stringify(out)}\n`);
