/**
 * `npm run bench:draw [-- --runs N]`: how fast the workbench draws large data, in Debian's
 * Chromium (headless, software rendering: no GPU), median of N repetitions (default 5).
 *
 * 1. ECharts alone: one chart of 100 line series × 10,000 points with the options our views use
 *    (no symbols, LTTB sampling, `large`, no animation): setOption until ECharts' `finished`
 *    event, then a live update (one more point on every series).
 * 2. The real app: a library of 100 runs × 10,000 evaluations each, `compare` on all of them
 *    (Transformer and MLP side by side, bands across seeds) — in core (Node) and end to end
 *    in the browser from the click until the charts are drawn.
 * Prints a table on stderr and one JSON object on stdout.
 */
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PRESETS } from '../core/config.js';
import { Library } from '../core/library/library.js';
import { scratchDir } from '../core/library/saved-run.js';
import { GrokscopeService } from '../core/service.js';
import type { EvalRecord } from '../core/train/trainer.js';
import { serve } from '../main/server/serve.js';

const root = path.resolve(import.meta.dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const reps = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const RUNS = 100;
const POINTS = 10_000;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const exe = [process.env.GROKSCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => p && existsSync(p));
if (!exe) {
  process.stderr.write('no Chromium: run `node scripts/setup-browser.mjs` first\n');
  process.exit(1);
}

// --- 1. ECharts alone -------------------------------------------------------------------------
const echartsJs = readFileSync(path.join(root, 'node_modules', 'echarts', 'dist', 'echarts.min.js'));
const page1 = `<!doctype html><html><body style="margin:0"><div id="c" style="width:1200px;height:500px"></div><script src="/echarts.js"></script></body></html>`;
const plain = createServer((req, res) => {
  if (req.url === '/echarts.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(echartsJs);
  else res.writeHead(200, { 'content-type': 'text/html' }).end(page1);
});
await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
const plainPort = (plain.address() as { port: number }).port;

const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
// tsx (esbuild, keepNames) wraps named functions in a `__name` helper: give the page one.
await page.addInitScript('window.__name = (f) => f;');
await page.goto(`http://127.0.0.1:${plainPort}/`);
process.stderr.write('ECharts alone…\n');
const drawMs: number[] = [];
const updateMs: number[] = [];
for (let r = 0; r < reps; r++) {
  const t = await page.evaluate(
    async ({ runs, points, seed }) => {
      const w = window as unknown as { echarts: any };
      const el = document.getElementById('c')!;
      w.echarts.getInstanceByDom(el)?.dispose();
      const chart = w.echarts.init(el, undefined, { renderer: 'canvas' });
      let x = seed;
      const rand = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
      const series = Array.from({ length: runs }, (_, s) => {
        const onset = 2000 + rand() * 6000;
        return {
          name: `run ${s}`,
          type: 'line',
          showSymbol: false,
          sampling: 'lttb',
          large: true,
          data: Array.from({ length: points }, (_, i) => [i * 10, 1 / (1 + Math.exp(-(i * 10 - onset * 10) / 3000)) + rand() * 0.02]),
        };
      });
      const option = { animation: false, tooltip: { trigger: 'axis' }, xAxis: { type: 'value' }, yAxis: { type: 'value' }, series };
      const finished = (): Promise<void> =>
        new Promise((res) => {
          const done = (): void => {
            chart.off('finished', done);
            res();
          };
          chart.on('finished', done);
        });
      const t0 = performance.now();
      const f1 = finished();
      chart.setOption(option, { notMerge: true });
      await f1;
      await new Promise((res) => requestAnimationFrame(() => res(null)));
      const draw = performance.now() - t0;
      for (const s of series) s.data.push([points * 10, 1]);
      const t1 = performance.now();
      const f2 = finished();
      chart.setOption({ series: series.map((s) => ({ data: s.data })) });
      await f2;
      await new Promise((res) => requestAnimationFrame(() => res(null)));
      return { draw, update: performance.now() - t1 };
    },
    { runs: RUNS, points: POINTS, seed: 7 + r },
  );
  drawMs.push(t.draw);
  updateMs.push(t.update);
}
plain.close();

// --- 2. The real app: compare 100 runs × 10k evaluations -----------------------------------------
const scratch = scratchDir('bench-draw');
const lib = path.join(scratch.dir, 'lib');
process.stderr.write(`writing a library of ${RUNS} runs × ${POINTS} evaluations…\n`);
const t0 = Date.now();
await Library.with(lib, async (l) => {
  for (let r = 0; r < RUNS; r++) {
    const arch = r % 2 ? 'mlp' : 'transformer';
    const id = await l.createRun({ ...PRESETS.quick, arch, seed: r >> 1, steps: POINTS * 10 }, { node: process.version, 'tfjs-core': '4.22.0' }, `bench-${arch}-${r >> 1}`);
    const onset = 20_000 + ((r * 7919) % 50_000);
    const records: EvalRecord[] = Array.from({ length: POINTS }, (_, i) => {
      const step = i * 10;
      const acc = 1 / (1 + Math.exp(-(step - onset) / 3000));
      return {
        step,
        trainLoss: 1 / (1 + step / 500),
        trainAcc: Math.min(1, step / 5000),
        testLoss: 3 - 2.9 * acc,
        testAcc: acc,
        weightNorm: 40 - step / 5000,
        tensorNorms: {},
        probes: { 'resid.final': { entropy: 0.9 - 0.4 * acc, effRank: 10, top5Share: 0.5 } },
        fourier: null,
      };
    });
    await l.appendEvals(id, records, []);
    await l.updateRun(id, { status: 'completed', backend: 'wasm', backendNote: 'bench fixture' });
  }
});
const fillS = (Date.now() - t0) / 1000;
const service = new GrokscopeService(lib, null);
const ids = (await service.listRuns()).map((r) => r.id);
process.stderr.write('compare…\n');
const coreMs: number[] = [];
for (let r = 0; r < reps; r++) {
  const c0 = performance.now();
  await service.compare(ids);
  coreMs.push(performance.now() - c0);
  process.stderr.write(`  core compare ${coreMs.at(-1)!.toFixed(0)} ms\n`);
}
const server = await serve({ service, staticDir: path.join(root, 'dist', 'renderer') });
await page.goto(server.url);
await page.waitForSelector('tbody tr');
const appMs: number[] = [];
for (let r = 0; r < reps; r++) {
  await page.click('button[data-tab=library]');
  await page.click('text=select shown');
  const a0 = Date.now();
  await page.click('button[data-action=compare]');
  await page.waitForSelector('.compare [data-arch=mlp] [data-chart=mlp-norm] canvas');
  await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(() => res(null)))));
  appMs.push(Date.now() - a0);
  process.stderr.write(`  in the app ${appMs.at(-1)} ms\n`);
}
await browser.close();
await server.close();
scratch.cleanup();

const out = {
  machine: `${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, Chromium headless --disable-gpu`,
  repetitions: reps,
  echarts_100x10k_draw_ms: +median(drawMs).toFixed(1),
  echarts_100x10k_draw_runs: drawMs.map((x) => +x.toFixed(1)),
  echarts_live_update_ms: +median(updateMs).toFixed(1),
  compare_core_ms: +median(coreMs).toFixed(1),
  compare_in_app_ms: +median(appMs).toFixed(1),
  compare_in_app_runs: appMs,
  library_fill_s: +fillS.toFixed(1),
};
process.stderr.write(
  [
    `machine: ${out.machine}`,
    `ECharts, 100 series × 10k points: draw ${out.echarts_100x10k_draw_ms} ms (runs ${out.echarts_100x10k_draw_runs.join(', ')}), live update ${out.echarts_live_update_ms} ms`,
    `compare 100 runs × 10k evaluations: core ${out.compare_core_ms} ms, click to drawn in the app ${out.compare_in_app_ms} ms (runs ${appMs.join(', ')})`,
    `(fixture library written in ${out.library_fill_s} s)`,
  ].join('\n') + '\n',
);
process.stdout.write(JSON.stringify(out) + '\n');
