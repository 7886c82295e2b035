/**
 * `npm run bench:serve [-- --clients 20 --rate 100 --seconds 10 --writes 1]`: `grokscope serve` under
 * load on loopback. `--writes W`: W batches of evaluations a second are appended to a run, as a
 * training run does (each write moves the library's version, so cached answers are read again). N clients each send `rate` requests per second for `seconds` (a mix of listRuns,
 * getRun without forecast, and malformed messages), while a live-event stream goes to every
 * client. Prints requests answered, latency percentiles, errors and the server's memory
 * (RSS and heap, sampled every 250 ms) before, at peak and after. In-process, like the tests;
 * traffic stays on 127.0.0.1 and the loops are bounded in count and time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import type { LiveEvent } from '../core/api.js';
import { GrokscopeService } from '../core/service/service.js';
import { serve } from '../main/server/serve.js';
import { fixtureRecord, makeFixtureRun } from '../test/helpers/fixture-run.js';
import { Library } from '../core/library/library.js';
import { numberArg } from './args.js';

const clients = numberArg('clients', 20);
const rate = numberArg('rate', 100);
const seconds = numberArg('seconds', 10);
const writes = numberArg('writes', 0);

const dir = mkdtempSync(path.join(os.tmpdir(), 'grokscope-bench-serve-'));
const staticDir = path.join(dir, 'static');
mkdirSync(staticDir);
writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>bench</title>');
for (let i = 0; i < 20; i++) await makeFixtureRun(path.join(dir, 'lib'), { id: `bench-${i}`, salt: i });
const service = new GrokscopeService(path.join(dir, 'lib'), null);
const server = await serve({ service, staticDir });

const mb = (x: number): string => (x / 2 ** 20).toFixed(0);
const memory = { before: process.memoryUsage(), peakRss: 0, peakHeap: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  memory.peakRss = Math.max(memory.peakRss, m.rss);
  memory.peakHeap = Math.max(memory.peakHeap, m.heapUsed);
}, 250);
const emit = (service as unknown as { emit(e: LiveEvent): void }).emit.bind(service);
let step = 0;
const events = setInterval(() => emit({ type: 'run-progress', id: 'bench-0', step: step++, totalSteps: 1e9, stepsPerSecond: 100, etaSeconds: null, backend: 'wasm', latest: null }), 10);

let written = 0;
let writing = writes > 0;
const writer = (async () => {
  for (let step = 100; writing; step += 20) {
    await Library.with(path.join(dir, 'lib'), (lib) => lib.appendEvals('bench-0', [fixtureRecord(step)]));
    written++;
    await new Promise((r) => setTimeout(r, 1000 / writes));
  }
})();

const latencies: number[] = [];
let answered = 0;
let errors = 0;
let sent = 0;
async function client(c: number): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const started = new Map<number, number>();
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as { id?: number; event?: unknown; error?: string };
    if (m.event !== undefined || m.id === undefined || m.id === null) return;
    latencies.push(performance.now() - started.get(m.id)!);
    started.delete(m.id);
    answered++;
    if (m.error !== undefined) errors++;
  });
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const id = c * 1e6 + i;
    started.set(id, performance.now());
    const kind = i % 10;
    const msg = kind < 6 ? { id, method: 'listRuns', args: [] } : kind < 9 ? { id, method: 'getRun', args: [`bench-${i % 20}`, { forecast: false, spectra: false }] } : { id, method: 'nope', args: 'x' };
    ws.send(JSON.stringify(msg));
    sent++;
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  const deadline = Date.now() + 60_000;
  while (started.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  ws.close();
}
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
const wall = (performance.now() - t0) / 1000;
writing = false;
await writer;
clearInterval(events);
clearInterval(sampler);
await server.close();
const after = process.memoryUsage();
rmSync(dir, { recursive: true, force: true });
latencies.sort((a, b) => a - b);
const pct = (q: number): string => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1) : '—');
process.stdout.write(
  [
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}`,
    `${clients} clients × ${rate} requests/s × ${seconds} s (60 % listRuns, 30 % getRun, 10 % malformed), live events every 10 ms to every client`,
    `${written} writes of evaluations to the library during the load (--writes ${writes})`,
    `sent ${sent}, answered ${answered} (${errors} errors, of them ${Math.round(sent / 10)} expected for the malformed share) in ${wall.toFixed(1)} s wall`,
    `latency ms: p50 ${pct(0.5)}, p95 ${pct(0.95)}, p99 ${pct(0.99)}, max ${pct(1)}`,
    `server stats: ${JSON.stringify(server.stats)}`,
    `memory MiB: RSS ${mb(memory.before.rss)} before, ${mb(memory.peakRss)} peak, ${mb(after.rss)} after; heap ${mb(memory.before.heapUsed)} before, ${mb(memory.peakHeap)} peak, ${mb(after.heapUsed)} after`,
  ].join('\n') + '\n',
);
