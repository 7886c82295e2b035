/**
 * `npm run bench:draw [-- --runs N]`: how fast the workbench draws large data, in Debian's
 * Chromium (headless, software rendering: no GPU), median of N repetitions (default 5).
 *
 * 1. ECharts alone: one chart of 100 line series × 10,000 points with ECharts' own sampling
 *    (no symbols, LTTB sampling, `large`, no animation): setOption until ECharts' `finished`
 *    event, then a live update (one more point on every series); and the same 100 × 10,000
 *    points M4-decimated to the chart's width (core/analysis/decimate.ts, timed with the draw)
 *    and drawn as the compare view draws runs: one series per run over its own column dataset,
 *    thin translucent silent lines.
 * 2. The real app: a library of 100 runs × 10,000 evaluations each, `compare` on all of them
 *    (Transformer and MLP side by side, bands across seeds) — in core (Node), cold (a new
 *    service: nothing cached) and warm (compared before), and end to end in the browser from the
 *    click until the charts are drawn, cold and warm; then "individual runs" switched on (every
 *    run's own curves on top of the bands) until drawn.
 * 3. Opening one run in core (`getRun`: its rows, spectra and live forecast from 20 reference
 *    runs), first with a new service and then again.
 * Prints a table on stderr and one JSON object on stdout.
 */
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PRESETS } from '../core/schema/run-config.js';
import { Library } from '../core/library/library.js';
import { scratchDir } from '../core/library/saved-run.js';
import { GrokscopeService } from '../core/service/service.js';
import { m4 } from '../core/analysis/decimate.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { serve } from '../main/server/serve.js';
import { numberArg } from './args.js';

const root = path.resolve(import.meta.dirname, '..');
const reps = numberArg('runs', 5);
/** `--echarts-only`: part 1 alone (no fixture library, a minute instead of several). */
const echartsOnly = process.argv.includes('--echarts-only');
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
const m4Ms: number[] = [];
for (let r = 0; r < reps; r++) {
  const t = await page.evaluate(
    async ({ runs, points, seed, m4Source }) => {
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
      const update = performance.now() - t1;
      // The same points, M4-decimated to the chart's width (timed from the raw columns).
      const decimate = new Function(`return ${m4Source}`)() as (x: ArrayLike<number>, y: ArrayLike<number>, c: number, lo: number, hi: number) => number[];
      const columns = series.map((s) => ({ x: Float64Array.from(s.data, (p) => p[0]), y: Float64Array.from(s.data, (p) => p[1]) }));
      chart.dispose();
      const chart2 = w.echarts.init(el, undefined, { renderer: 'canvas' });
      const t2 = performance.now();
      const f3 = new Promise<void>((res) => chart2.on('finished', () => res()));
      const width = el.clientWidth;
      // As the compare view draws runs: one series per run over its own column dataset.
      const dataset = columns.map((c) => {
        const flat = decimate(c.x, c.y, width, 0, points * 10);
        const step: number[] = [];
        const value: number[] = [];
        for (let k = 0; k < flat.length; k += 2) {
          step.push(flat[k]);
          value.push(flat[k + 1]);
        }
        return { source: { step, value } };
      });
      chart2.setOption(
        { ...option, dataset, series: dataset.map((_, i) => ({ type: 'line', datasetIndex: i, encode: { x: 'step', y: 'value' }, showSymbol: false, silent: true, lineStyle: { width: 0.7, opacity: 0.35 } })) },
        { notMerge: true },
      );
      await f3;
      await new Promise((res) => requestAnimationFrame(() => res(null)));
      const m4ms = performance.now() - t2;
      chart2.dispose();
      return { draw, update, m4: m4ms };
    },
    { runs: RUNS, points: POINTS, seed: 7 + r, m4Source: m4.toString() },
  );
  drawMs.push(t.draw);
  updateMs.push(t.update);
  m4Ms.push(t.m4);
}
plain.close();
if (echartsOnly) {
  await browser.close();
  process.stderr.write(`ECharts, 100 series × 10k points: draw ${median(drawMs).toFixed(1)} ms (runs ${drawMs.map((x) => x.toFixed(0)).join(', ')}), live update ${median(updateMs).toFixed(1)} ms; M4-decimated as the compare view draws runs: ${median(m4Ms).toFixed(1)} ms (runs ${m4Ms.map((x) => x.toFixed(0)).join(', ')})\n`);
  process.stdout.write(JSON.stringify({ echarts_100x10k_draw_ms: median(drawMs), echarts_live_update_ms: median(updateMs), echarts_100x10k_m4_draw_ms: median(m4Ms) }) + '\n');
  process.exit(0);
}

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
        train_loss: 1 / (1 + step / 500),
        train_acc: Math.min(1, step / 5000),
        test_loss: 3 - 2.9 * acc,
        test_acc: acc,
        weight_norm: 40 - step / 5000,
        tensor_norms: {},
        probes: { 'resid.final': { entropy: 0.9 - 0.4 * acc, eff_rank: 10, top5_share: 0.5 } },
        fourier: null,
      };
    });
    await l.appendEvals(id, records, []);
    await l.updateRun(id, { status: 'completed', backend: 'wasm', backendNote: 'bench fixture' });
  }
});
const fillS = (Date.now() - t0) / 1000;
const ids = (await new GrokscopeService(lib, null).listRuns()).map((r) => r.id);
process.stderr.write('compare…\n');
const coldMs: number[] = [];
const warmMs: number[] = [];
for (let r = 0; r < reps; r++) {
  const service = new GrokscopeService(lib, null); // nothing cached
  const c0 = performance.now();
  await service.compare(ids);
  coldMs.push(performance.now() - c0);
  const w0 = performance.now();
  await service.compare(ids);
  warmMs.push(performance.now() - w0);
  process.stderr.write(`  core compare: cold ${coldMs.at(-1)!.toFixed(0)} ms, warm ${warmMs.at(-1)!.toFixed(0)} ms\n`);
}
// Opening one run: its rows, spectra and the live forecast fitted on 20 reference runs of
// 10,000 evaluations (first open fits the forecast model; the next reuses it).
const openColdMs: number[] = [];
const openWarmMs: number[] = [];
for (let r = 0; r < reps; r++) {
  const service = new GrokscopeService(lib, null);
  const o0 = performance.now();
  await service.getRun(ids[r % ids.length]);
  openColdMs.push(performance.now() - o0);
  const o1 = performance.now();
  await service.getRun(ids[r % ids.length]);
  openWarmMs.push(performance.now() - o1);
  process.stderr.write(`  open a run in core: first ${openColdMs.at(-1)!.toFixed(0)} ms, again ${openWarmMs.at(-1)!.toFixed(0)} ms\n`);
}
const appColdMs: number[] = [];
const appWarmMs: number[] = [];
const appLinesMs: number[] = [];
const clickCompare = async (): Promise<number> => {
  await page.click('button[data-tab=library]');
  await page.click('text=select shown');
  const a0 = Date.now();
  await page.click('button[data-action=compare]');
  await page.waitForSelector('.compare [data-arch=mlp] [data-chart=mlp-norm] canvas');
  await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(() => res(null)))));
  return Date.now() - a0;
};
for (let r = 0; r < reps; r++) {
  // A new server and service each time: the first compare reads everything from the library.
  const server = await serve({ service: new GrokscopeService(lib, null), staticDir: path.join(root, 'dist', 'renderer') });
  await page.goto(server.url);
  await page.waitForSelector('tbody tr');
  appColdMs.push(await clickCompare());
  appWarmMs.push(await clickCompare());
  const l0 = Date.now();
  await page.click('input[data-action=lines]');
  await page.waitForFunction(() => {
    const box = document.querySelector('input[data-action=lines]') as HTMLInputElement | null;
    return !!box && box.checked && !box.disabled;
  });
  await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(() => res(null)))));
  appLinesMs.push(Date.now() - l0);
  process.stderr.write(`  in the app: cold ${appColdMs.at(-1)} ms, warm ${appWarmMs.at(-1)} ms, individual runs on ${appLinesMs.at(-1)} ms\n`);
  await server.close();
}
await browser.close();
scratch.cleanup();

const out = {
  machine: `${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, Chromium headless --disable-gpu`,
  repetitions: reps,
  echarts_100x10k_draw_ms: +median(drawMs).toFixed(1),
  echarts_100x10k_draw_runs: drawMs.map((x) => +x.toFixed(1)),
  echarts_live_update_ms: +median(updateMs).toFixed(1),
  echarts_100x10k_m4_draw_ms: +median(m4Ms).toFixed(1),
  echarts_100x10k_m4_draw_runs: m4Ms.map((x) => +x.toFixed(1)),
  compare_core_cold_ms: +median(coldMs).toFixed(1),
  compare_core_warm_ms: +median(warmMs).toFixed(1),
  compare_in_app_cold_ms: median(appColdMs),
  compare_in_app_warm_ms: median(appWarmMs),
  compare_in_app_runs: { cold: appColdMs, warm: appWarmMs },
  open_run_core_first_ms: +median(openColdMs).toFixed(1),
  open_run_core_again_ms: +median(openWarmMs).toFixed(1),
  individual_runs_in_app_ms: median(appLinesMs),
  individual_runs_in_app_runs: appLinesMs,
  library_fill_s: +fillS.toFixed(1),
};
process.stderr.write(
  [
    `machine: ${out.machine}`,
    `ECharts, 100 series × 10k points: draw ${out.echarts_100x10k_draw_ms} ms (runs ${out.echarts_100x10k_draw_runs.join(', ')}), live update ${out.echarts_live_update_ms} ms`,
    `ECharts, the same points M4-decimated to the chart's width, drawn as the compare view draws runs: ${out.echarts_100x10k_m4_draw_ms} ms (runs ${out.echarts_100x10k_m4_draw_runs.join(', ')})`,
    `compare 100 runs × 10k evaluations in core: cold ${out.compare_core_cold_ms} ms (${coldMs.map((x) => x.toFixed(0)).join(', ')}), warm ${out.compare_core_warm_ms} ms (${warmMs.map((x) => x.toFixed(0)).join(', ')})`,
    `click to drawn in the app: cold ${out.compare_in_app_cold_ms} ms (${appColdMs.join(', ')}), warm ${out.compare_in_app_warm_ms} ms (${appWarmMs.join(', ')})`,
    `individual runs switched on until drawn: ${out.individual_runs_in_app_ms} ms (${appLinesMs.join(', ')})`,
    `open one run (rows, spectra, live forecast from 20 reference runs) in core: first ${out.open_run_core_first_ms} ms (${openColdMs.map((x) => x.toFixed(0)).join(', ')}), again ${out.open_run_core_again_ms} ms`,
    `(fixture library written in ${out.library_fill_s} s)`,
  ].join('\n') + '\n',
);
process.stdout.write(JSON.stringify(out) + '\n');
