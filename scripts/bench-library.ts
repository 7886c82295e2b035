/**
 * `npm run bench:library [-- --runs 1000 --evals 10000 --reps 3]`: the run library at scale.
 * Writes a library of `runs` completed runs (half Transformer, half MLP, one config) with `evals`
 * evaluations each — metrics, two probes' H̃ / effective rank / top-5 share, and a spectrum of 64
 * eigenvalues at every 50th evaluation — straight into DuckDB with SQL (the same tables a training
 * run fills; per-step norms left out: 100 million rows that only a norm-matched run's start reads).
 * Then, median of `reps` repetitions, each cold (a new service: nothing cached; the OS page cache
 * is warm) and warm (the same call again):
 *   - `grokscope list` as a user types it (a new Node process, end to end), and listRuns in core;
 *   - opening one run (`getRun`: its rows, spectra, live forecast from 20 reference runs);
 *   - comparing 100 runs;
 *   - 8 clients at once on `grokscope serve` (loopback WebSocket, the renderer's protocol), each
 *     doing what a browser tab does when it opens: list the runs, open its own run, compare its
 *     own 100 runs — time until the last client has all three answers.
 * Needs `npm run build:node` first (for the CLI row). Prints a table on stderr, JSON on stdout.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { WebSocket } from 'ws';
import { PRESETS } from '../core/schema/run-config.js';
import { Library } from '../core/library/library.js';
import { scratchDir } from '../core/library/saved-run.js';
import { GrokscopeService } from '../core/service/service.js';
import { serve } from '../main/server/serve.js';
import { numberArg } from './args.js';

const RUNS = numberArg('runs', 1000);
const EVALS = numberArg('evals', 10_000);
const REPS = numberArg('reps', 3);
const root = path.resolve(import.meta.dirname, '..');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const log = (s: string): void => void process.stderr.write(`${s}\n`);

const scratch = scratchDir('bench-library');
const lib = path.join(scratch.dir, 'lib');
log(`writing a library of ${RUNS} runs × ${EVALS} evaluations in ${lib}…`);
const t0 = performance.now();
const ids: string[] = [];
await Library.with(lib, async (l) => {
  for (let r = 0; r < RUNS; r++) {
    const arch = r % 2 ? 'mlp' : 'transformer';
    ids.push(await l.createRun({ ...PRESETS.quick, arch, seed: r >> 1, steps: EVALS * 10, evalEvery: 10 }, { node: process.version, 'tfjs-core': '4.22.0' }, `bench-${arch}-${String(r >> 1).padStart(4, '0')}`));
  }
});
{
  const db = await DuckDBInstance.create(Library.dbPath(lib));
  const con = await db.connect();
  // Each run's onset of generalisation differs (k: the run's rank), as in bench:draw.
  const evals = `(SELECT r.id, r.k, t.i * 10 AS step, 1 / (1 + exp(-((t.i * 10) - (20000 + (r.k * 7919) % 50000)) / 3000.0)) AS acc
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM runs) r, range(${EVALS}) t(i))`;
  await con.run(`INSERT INTO metrics SELECT id, step, 1 / (1 + step / 500.0), least(1, step / 5000.0), 3 - 2.9 * acc, acc, 40 - step / 5000.0, 0.3 + 0.6 * acc, 0.2 FROM ${evals}`);
  await con.run(`INSERT INTO probe_metrics SELECT id, step, p.probe, 0.9 - 0.4 * acc + p.o, 10 + 5 * acc, 0.5 + 0.4 * acc FROM ${evals}, (VALUES ('resid.final', 0.0), ('embed', -0.05)) p(probe, o)`);
  await con.run(`INSERT INTO spectra SELECT id, step, 'resid.final', list_transform(range(64), j -> exp(-j / (8.0 - 6 * acc))) FROM ${evals} WHERE step % 500 = 0`);
  await con.run(`UPDATE runs SET status = 'completed', steps_done = ${(EVALS - 1) * 10}, backend = 'wasm', backend_note = 'bench fixture'`);
  // Half the runs a study's, so that listing them pays for finding each run's study.
  await con.run(`INSERT INTO studies VALUES ('bench', '{}', '2026-12-05T00:00:00.000Z', '2026-12-05T00:00:00.000Z', 'completed')`);
  await con.run(`INSERT INTO study_runs SELECT 'bench', id, id FROM runs WHERE arch = 'mlp'`);
  con.closeSync();
  db.closeSync();
}
const fillS = (performance.now() - t0) / 1000;
const fileMiB = statSync(Library.dbPath(lib)).size / 2 ** 20;
log(`  written in ${fillS.toFixed(1)} s, ${fileMiB.toFixed(0)} MiB`);

const rows: Record<string, { cold: number[]; warm: number[] }> = {};
const time = async (name: string, kind: 'cold' | 'warm', fn: () => Promise<unknown>): Promise<void> => {
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  (rows[name] ??= { cold: [], warm: [] })[kind].push(ms);
  log(`  ${name} (${kind}): ${ms.toFixed(0)} ms`);
};
const hundred = (offset: number): string[] => Array.from({ length: 100 }, (_, i) => ids[(offset + i * Math.floor(RUNS / 100)) % RUNS]);

for (let rep = 0; rep < REPS; rep++) {
  log(`repetition ${rep + 1} of ${REPS}`);
  await time('grokscope list (new process)', 'cold', async () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'grokscope.js'), 'list', '--library', lib], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    if (r.stdout.trim().split('\n').length !== RUNS + 1) throw new Error('list did not print every run');
  });
  let service = new GrokscopeService(lib, null);
  await time('listRuns', 'cold', () => service.listRuns());
  await time('listRuns', 'warm', () => service.listRuns());
  service = new GrokscopeService(lib, null);
  const one = ids[(rep * 37) % RUNS];
  await time('open a run (getRun with spectra and forecast)', 'cold', () => service.getRun(one));
  await time('open a run (getRun with spectra and forecast)', 'warm', () => service.getRun(one));
  service = new GrokscopeService(lib, null);
  await time('compare 100 runs', 'cold', () => service.compare(hundred(rep)));
  await time('compare 100 runs', 'warm', () => service.compare(hundred(rep)));

  service = new GrokscopeService(lib, null);
  const server = await serve({ service, staticDir: (() => {
    const dir = path.join(scratch.dir, 'static');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    return dir;
  })() });
  const tab = async (c: number): Promise<void> => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const waiting = new Set([1, 2, 3]);
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as { id?: number; error?: string; event?: unknown };
        if (m.event !== undefined || m.id === undefined) return;
        if (m.error) reject(new Error(m.error));
        waiting.delete(m.id);
        if (waiting.size === 0) resolve();
      });
      ws.send(JSON.stringify({ id: 1, method: 'listRuns', args: [] }));
      ws.send(JSON.stringify({ id: 2, method: 'getRun', args: [ids[(c * 101 + rep) % RUNS]] }));
      ws.send(JSON.stringify({ id: 3, method: 'compare', args: [hundred(c * 13 + rep)] }));
    });
    ws.close();
  };
  await time('8 clients at once: list, open a run, compare 100 runs', 'cold', () => Promise.all(Array.from({ length: 8 }, (_, c) => tab(c))));
  await time('8 clients at once: list, open a run, compare 100 runs', 'warm', () => Promise.all(Array.from({ length: 8 }, (_, c) => tab(c))));
  await server.close();
}
scratch.cleanup();

const fmt = (xs: number[]): string => (xs.length ? `${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(' / ')})` : '—');
log('');
log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}`);
log(`library: ${RUNS} runs × ${EVALS} evaluations, ${fileMiB.toFixed(0)} MiB, written in ${fillS.toFixed(1)} s; medians of ${REPS}`);
log('| what | cold | warm |');
log('|---|---|---|');
for (const [name, r] of Object.entries(rows)) log(`| ${name} | ${fmt(r.cold)} | ${fmt(r.warm)} |`);
process.stdout.write(`${JSON.stringify({ runs: RUNS, evals: EVALS, file_mib: fileMiB, fill_s: fillS, medians_ms: Object.fromEntries(Object.entries(rows).map(([k, r]) => [k, { cold: median(r.cold), warm: r.warm.length ? median(r.warm) : null }])) })}\n`);
