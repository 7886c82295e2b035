import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { createTrainingPool } from '../../core/runs/pool.js';
import { median } from '../../core/analysis/stats.js';
import { PRESETS, type RunConfig } from '../../core/schema/run-config.js';
import { BACKEND_CHOICES } from '../../core/schema/backend-choices.js';
import { ARCHS } from '../../core/models/config.js';
import { isS5Task } from '../../core/tasks/groups.js';
import type { BenchResult, BenchTask } from '../../core/runs/protocol.js';
import type { RunDetail } from '../../core/api.js';
import { UserError } from './errors.js';
import { firstLine } from '../../core/errors.js';
import { cmdWorker } from './worker.js';
import { cmdStudy, studyArgumentHelp } from './study.js';
import { cmdAnalyze } from './analyze.js';
import { cmdExport, cmdImport, cmdReproduce } from './transfer.js';
import { cmdServe } from './serve.js';
import { RUN_FLAGS, buildRunConfig } from './run-config.js';
import { printJson, refuseUnusableLibrary, withService, type CommonOpts } from './common.js';
import { cmdRun } from './run.js';
import { cmdMeasure } from './measure.js';
import { cmdLibraryCheck, cmdLibraryRebuild } from './library.js';

function withCommon(cmd: Command): Command {
  return cmd
    .option('--library <dir>', 'run library folder (default: $GROKSCOPE_LIBRARY, else the app’s user-data folder)')
    .option('--json', 'print one JSON value on the last line of stdout')
    .option('--debug', 'show stack traces on errors');
}

async function cmdList(opts: CommonOpts): Promise<number> {
  const runs = await withService(opts, 0, (service) => service.listRuns());
  if (opts.json) printJson(runs.map(({ id, task, arch, condition, seed, status, T_grok, T_cross }) => ({ id, task, arch, condition, seed, status, T_grok, T_cross })));
  else if (runs.length === 0) process.stdout.write('no runs\n');
  else {
    const rows = runs.map((r) => [r.id, r.task, r.arch, r.condition, String(r.seed), r.status, String(r.T_grok ?? '—'), String(r.T_cross ?? '—')]);
    const head = ['id', 'task', 'arch', 'condition', 'seed', 'status', 'T_grok', 'T_cross'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  }
  return 0;
}

/**
 * `show`'s events: the markers in the order a run reaches them (docs/methods.md, "Events of a run"),
 * then the warning — T_cross, counted from T_mem on — with its lead against the start of the climb
 * (T_rise) and its end (T_grok), and the test accuracy it fired at.
 */
function eventLines(e: RunDetail['events'], c: RunConfig): string[] {
  const v = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : String(x));
  // The configured H̃*, the one the run view, compare and the live forecast judge by (docs/decisions.md, "One H̃* in every view").
  const cross = e?.below_at_mem ? `— (below H̃* ${c.entropyThreshold}, configured, at memorisation, on ${c.probe})` : `${v(e?.T_cross)} (H̃* ${c.entropyThreshold}, configured, on ${c.probe})`;
  const acc = e?.test_acc_at_cross;
  return [
    `events     T_mem ${v(e?.T_mem)}  T_rise ${v(e?.T_rise)}  T_loss_peak ${v(e?.T_loss_peak)}  T_grok_50 ${v(e?.T_grok_50)}  T_grok ${v(e?.T_grok)}`,
    `warning    T_cross ${cross}  lead vs T_rise ${v(e?.lead_rise)}, vs T_grok ${v(e?.lead)}  test acc at T_cross ${acc === null || acc === undefined ? '—' : acc.toFixed(3)}`,
  ];
}

async function cmdShow(runArg: string, opts: CommonOpts): Promise<number> {
  const run = await withService(opts, 0, (service) => service.getRun(runArg, { forecast: false, spectra: false }));
  const metrics = run.metrics;
  if (opts.json) {
    printJson({ id: run.id, config: run.config, study: run.study, presetDiff: run.presetDiff, backend: run.backend, status: run.status, events: run.events, threshold: run.threshold, metrics });
    return 0;
  }
  const c = run.config as unknown as RunConfig;
  const out = [
    `run        ${run.id}  (${run.status}, ${run.stepsDone}/${c.steps} steps)`,
    `task       ${c.task}${isS5Task(c.task) ? '' : ` p=${c.p}`}, train fraction ${c.trainFraction}, seed ${c.seed}`,
    `model      ${c.arch} d=${c.dModel}${c.arch === 'transformer' ? ` heads=${c.nHeads}` : ''} d_mlp=${c.dMlp}; AdamW lr ${c.lr} wd ${c.weightDecay}`,
    `backend    ${run.backend ?? '—'}${run.backendNote ? ` (${run.backendNote})` : ''}`,
    // Its study, and what makes it unlike its preset (the run view's header says the same).
    ...(run.study ? [`study      ${run.study}`] : []),
    ...(run.presetDiff?.length ? [`unlike     ${c.preset}: ${run.presetDiff.map((d) => `${d.field} ${JSON.stringify(d.value) ?? '—'} (preset ${JSON.stringify(d.preset) ?? '—'})`).join(', ')}`] : []),
    ...eventLines(run.events, c),
  ];
  if (run.error) out.push(`error      ${run.error}`);
  const shown = metrics.length <= 12 ? metrics : metrics.filter((_, i) => i % Math.ceil(metrics.length / 12) === 0 || i === metrics.length - 1);
  out.push('', 'step      train_acc  test_acc  train_loss  test_loss  ‖θ‖      H̃(' + c.probe + ')');
  for (const m of shown) {
    out.push(
      `${String(m.step).padEnd(9)} ${m.train_acc.toFixed(4).padEnd(10)} ${m.test_acc.toFixed(4).padEnd(9)} ${m.train_loss.toFixed(4).padEnd(11)} ${m.test_loss.toFixed(4).padEnd(10)} ${m.weight_norm.toFixed(2).padEnd(8)} ${m.entropy[c.probe]?.toFixed(4) ?? '—'}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

async function cmdExportCsv(runArg: string, opts: CommonOpts & { output?: string }): Promise<number> {
  const file = await withService(opts, 0, (service) => service.exportRuns([runArg], 'csv'));
  const csv = Buffer.from(file.base64, 'base64').toString('utf8');
  if (opts.output) {
    try {
      writeFileSync(opts.output, csv);
    } catch (err) {
      throw new UserError(`cannot write ${opts.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    process.stderr.write(`wrote ${csv.trimEnd().split('\n').length - 1} rows of ${file.name.replace(/\.csv$/, '')} to ${opts.output}\n`);
  } else process.stdout.write(csv);
  return 0;
}

async function cmdBench(opts: CommonOpts & Record<string, unknown>): Promise<number> {
  const config = buildRunConfig({ preset: opts.preset, arch: opts.arch, backend: opts.backend });
  const steps = opts.steps === undefined ? (config.preset === 'reference' ? 10 : 30) : Number(opts.steps);
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`--steps expects a positive integer (got '${opts.steps}')`);
  const group = opts.group === undefined ? 1 : Number(opts.group);
  if (!Number.isInteger(group) || group < 1 || group > 1000) throw new UserError(`--group expects an integer from 1 to 1000 (got '${opts.group}')`);
  const pool = createTrainingPool(1);
  try {
    process.stderr.write(`timing ${steps} steps of preset ${config.preset} (${config.arch})${group > 1 ? ` in a group of ${group} runs` : ''}…\n`);
    const task: BenchTask = { config, steps, evals: Math.max(3, Math.min(10, Math.ceil(steps / 5))), group };
    const r = (await pool.run(task, { name: 'bench' })) as BenchResult;
    const out = {
      backend: r.backend,
      preset: config.preset,
      arch: config.arch,
      ms_per_step_median: +median(r.msPerStep).toFixed(3),
      ms_per_step_min: +Math.min(...r.msPerStep).toFixed(3),
      ms_per_eval_median: +median(r.msPerEval).toFixed(3),
      steps,
      backend_note: r.backendNote,
      // A step of the group advances every member: per run-step is the figure to compare across S.
      group: r.group,
      ms_per_run_step: +(median(r.msPerStep) / r.group).toFixed(3),
      // Counted on the WebGPU device over steps with no read between them (null elsewhere).
      dispatches_per_step: r.counts?.dispatchesPerStep ?? null,
      submits_per_step: r.counts?.submitsPerStep ?? null,
      reads_per_step: r.counts?.readsPerStep ?? null,
      // An evaluation's share of a run at the preset's cadence (one, without spectra, per evalEvery run-steps); per run-evaluation, bytes read back from the device and host ms building the record.
      eval_every: config.evalEvery,
      read_bytes_per_eval: Math.round(r.readBytesPerEval ?? 0), read_bytes_per_spectrum_eval: Math.round(r.readBytesPerSpectrumEval ?? 0), host_ms_per_eval: +(r.hostMsPerEval ?? 0).toFixed(3),
      eval_share: +(median(r.msPerEval) / (median(r.msPerEval) + config.evalEvery * (median(r.msPerStep) / r.group))).toFixed(4),
    };
    if (opts.json) printJson(out);
    else process.stdout.write(
        `${out.preset}/${out.arch} on ${out.backend}: ${out.ms_per_step_median} ms/step median (min ${out.ms_per_step_min}) over ${steps} steps` +
          (group > 1 ? ` of a group of ${group} (${out.ms_per_run_step} ms per run-step)` : '') +
          `; evaluation ${out.ms_per_eval_median} ms (${(100 * out.eval_share).toFixed(1)} % of a run at one every ${out.eval_every} steps)` +
          (r.counts ? `; ${out.dispatches_per_step} dispatches, ${out.submits_per_step} submits, ${out.reads_per_step} reads per step` : '') + '\n',
      );
    return 0;
  } finally {
    await pool.destroy();
  }
}

export function buildProgram(): Command {
  const program = new Command('grokscope')
    .description('Grokscope: watch spectral entropy collapse before grokking')
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  refuseUnusableLibrary(program);

  const run = withCommon(program.command('run').description('train a run (or, with --seeds, a group of runs) into the library'));
  run.addOption(new Option('--preset <name>', 'base configuration').choices(Object.keys(PRESETS)));
  run.option('--config <file>', 'JSON run config (fields of RunConfig, over the preset)');
  run.option('--resume <run>', 'continue a stopped run from its latest checkpoint');
  run.option('--seeds <list>', 'train these seeds (e.g. 0-4 or 0,3,7) as one run group; --json prints an array');
  for (const f of RUN_FLAGS) run.option(`--${f.flag} <value>`, f.help);
  run.action(async (opts) => finish(await guarded(opts, () => cmdRun(opts))));

  withCommon(program.command('list').description('runs in the library')).action(async (opts) => finish(await guarded(opts, () => cmdList(opts))));
  withCommon(program.command('show').argument('<run>', 'run id or unique prefix').description('one run: config, events, metrics')).action(
    async (runArg: string, opts) => finish(await guarded(opts, () => cmdShow(runArg, opts))),
  );
  withCommon(
    program.command('export-csv').argument('<run>', 'run id or unique prefix').option('-o, --output <file>', 'write here instead of stdout').description('a run’s metrics as CSV'),
  ).action(async (runArg: string, opts) => finish(await guarded(opts, () => cmdExportCsv(runArg, opts))));
  withCommon(
    program
      .command('worker')
      .option('--queue <url>', 'redis://[:PASSWORD@]HOST:PORT/DB of the study coordinator')
      .option('--results <dir>', 'a folder shared with the coordinator, where finished runs go (default: through Redis)')
      .option('--workers <n>', 'run groups trained at once (default: cores − 1)')
      .option('--lock-ms <ms>', 'how long a job stays with a worker that stops answering before another takes it (default 30000)')
      .option('--backend <backend>', 'train on this backend instead of the one the study names (auto | tensorflow | webgpu | wasm+openblas | wasm | cpu)')
      .option('--upload-every <seconds>', 'how often runs in training go to the results folder with their checkpoints, so a job taken over resumes (default 60)')
      .description('train studies’ run groups from a queue until Ctrl-C (see study --queue)'),
  ).action(async (opts) => finish(await guarded(opts, () => cmdWorker(opts))));
  const study = withCommon(
    program
      .command('study')
      .argument('<spec>', studyArgumentHelp())
      .option('--workers <n>', 'training workers (default: cores − 1)')
      .option('--out <dir>', 'report folder (default: ./study-<name>)')
      .option('--dry-run', 'print what it would train (runs, groups, steps) and stop')
      .option('--check <backend>', 'train the same runs again on this backend and report, per claim, whether the verdicts agree')
      .option('--queue <url>', 'redis://[:PASSWORD@]HOST:PORT/DB: enqueue the run groups for `grokscope worker`s and import their runs as they arrive')
      .option('--results <dir>', 'with --queue: a folder shared with the workers, where finished runs arrive (default: through Redis)')
      .option('--part <name>', 'train one part of a study that has parts (the paper study: baselines, interventions); its report covers the runs trained so far')
      .option('--time-budget <duration>', 'a slice: start only the run groups expected to end within this time (90s, 9m, 1.5h), store them and exit 0 saying what is left; run it again to continue')
      .description('run a study through the worker pool (resumable) and write its report'),
  );
  study.action(async (specArg: string, opts) => finish(await guarded(opts, () => cmdStudy(specArg, opts))));
  withCommon(
    program
      .command('analyze')
      .argument('[runs...]', 'run ids or unique prefixes (ours, or imported with import --external)')
      .option('--study <name>', "every run of this study, under its planned keys (the study's analysis under today's rules; nothing is trained)")
      .option('--all', 'every run in the library')
      .option('--task <task>', 'keep only runs of this task')
      .option('--arch <arch>', 'keep only runs of this architecture')
      .option('--origin <origin>', 'keep only runs of this origin (trained, imported, external)')
      .option('--out <dir>', 'report folder (default: ./analysis-<name>)')
      .option('--name <name>', 'the analysis’ name in its report (default: the study’s, else "analysis")')
      .option('--alarm-from <rule>', 'memorisation (default: a crossing counts from T_mem on) or start (the rule before 2026-12-05)')
      .description('a study’s analysis (verdicts, H̃*, onset, forecast nulls, detector table, report.html) over runs of the library, trained here or anywhere'),
  ).action(async (runs: string[], opts) => finish(await guarded(opts, () => cmdAnalyze(runs, opts))));
  withCommon(
    program
      .command('export')
      .argument('[runs...]', 'run ids or unique prefixes')
      .option('-o, --output <file>', 'FILE.grokrun (one run) or FILE.grokbundle (runs, study spec, lockfile, environment); a folder for --format transformerlens or tensorboard; FILE.csv or FILE.parquet')
      .option('--format <format>', 'grokrun or grokbundle (the default, from the file name); transformerlens (weights as safetensors under HookedTransformer names, config.json, load.py); tensorboard (a folder of event files per run); csv or parquet (one long table of metrics and a .runs table)')
      .option('--study <name>', 'add every run of this study (and its spec) to the bundle')
      .option('--checkpoints', 'include checkpoints (lets the importer resume the runs)')
      .option('--compact', 'a .grokbundle for analysis elsewhere: with --study its completed runs only, no checkpoints, no spectra or per-tensor norms, per-step norms of mix runs only (docs/formats.md)')
      .option('--step <n>', 'transformerlens: the checkpoint at this step (default: the latest)')
      .option('--all-checkpoints', 'transformerlens: every checkpoint, as checkpoints/step_N.safetensors')
      .description('save runs as a .grokrun or a reproducibility .grokbundle, or for another tool'),
  ).action(async (runs: string[], opts) => finish(await guarded(opts, () => cmdExport(runs, opts))));
  withCommon(
    program
      .command('import')
      .argument('[files...]', '.grokrun / .grokbundle files or their unpacked folders; with --external, CSV or Parquet files')
      .option('--external', 'read CSV/Parquet from other tools (TensorBoard, W&B): a step column, and train_acc or test_acc')
      .option('--metric <name>', 'external: name of the one value column of a single-metric file (TensorBoard CSV: default its -tag-NAME)')
      .option('--task <task>', 'external: the task the run trained on (default mod-add)')
      .option('--arch <arch>', 'external: transformer or mlp (default transformer)')
      .option('--probe <probe>', 'external: the probe its entropy column measures (default resid.final); the file must have one')
      .option('--p <n>', 'external: the modulus of a Z/pZ task, a prime (not for S5 tasks)')
      .option('--condition <condition>', 'external: baseline, mix, norm-matched or logit-matched (default baseline)')
      .option('--seed <n>', 'external: the run’s seed, a whole number ≥ 0 (default 0)')
      .option('--steps <n>', 'external: the training budget (default: the file’s last step)')
      .option('--train-fraction <x>', 'external: share of pairs trained on, 0 < x < 1')
      .option('--require <fields>', 'external: comma list the file must have, e.g. test_acc,entropy (train_acc, test_acc, train_loss, test_loss, weight_norm, entropy, entropy.<probe>)')
      .option('--config-table <file>', 'a CSV with a row per external file: file (required), task, p, arch, condition, seed, probe, steps, train_fraction, metric; flags fill empty cells (implies --external)')
      .description('import saved runs and bundles, or other tools’ runs (each file all or nothing)'),
  ).action(async (files: string[], opts) => finish(await guarded(opts, () => cmdImport(files, opts))));
  withCommon(
    program
      .command('reproduce')
      .argument('<bundle>', '.grokbundle or .grokrun (or its folder)')
      .option('--workers <n>', 'training workers (default: cores − 1)')
      .option('--keep <dir>', 'keep the originals and reproductions in this (empty or new) folder')
      .description('train a bundle’s runs again on this machine and report, per run, whether they match'),
  ).action(async (bundle: string, opts) => finish(await guarded(opts, () => cmdReproduce(bundle, opts))));
  withCommon(
    program
      .command('serve')
      .option('--port <n>', 'port on 127.0.0.1 (default: any free port)')
      .option('--workers <n>', 'training workers (default: cores − 1)')
      .description('the workbench in a browser: renderer and API on 127.0.0.1 with an access token'),
  ).action(async (opts) => finish(await guarded(opts, () => cmdServe(opts))));
  withCommon(
    program
      .command('measure')
      .argument('<file>', 'a .safetensors checkpoint of a 1-layer TransformerLens model (HookedTransformer names, no LayerNorm, ReLU)')
      .option('--task <task>', 'the task it was trained on (default mod-add)')
      .option('--p <n>', 'the modulus (default 113)')
      .option('--split-seed <n>', 'seed of the train/test split the accuracies are reported on (default 0)')
      .option('--train-fraction <x>', 'train share of that split (default 0.3)')
      .description('our observables (H̃ per probe, spectra, Fourier alignment, accuracy) for a model trained elsewhere'),
  ).action(async (file: string, opts) => finish(await guarded(opts, () => cmdMeasure(file, opts))));
  const library = program.command('library').description('check the run library, or rebuild it from its saved runs');
  withCommon(library.command('check').description('read every table whole and verify every saved run; exit 1 on any problem')).action(async (opts) =>
    finish(await guarded(opts, () => cmdLibraryCheck(opts))),
  );
  withCommon(
    library
      .command('rebuild')
      .option('--from <dir>', 'folder of saved runs (*.grokrun) to rebuild from (default: the library’s saved-runs/)')
      .description('set the database aside (renamed, never deleted) and build a new one from saved runs'),
  ).action(async (opts) => finish(await guarded(opts, () => cmdLibraryRebuild(opts))));
  const bench = withCommon(program.command('bench').description('time training steps and evaluations'));
  bench.addOption(new Option('--preset <name>').choices(Object.keys(PRESETS)).default('quick'));
  bench.addOption(new Option('--arch <arch>').choices([...ARCHS]).default('transformer'));
  bench.option('--steps <n>', 'timed steps');
  bench.option('--group <S>', 'time S runs (seeds 0…S−1) stepped as one run group (default 1)');
  bench.addOption(new Option('--backend <b>').choices([...BACKEND_CHOICES]).default('auto'));
  bench.action(async (opts) => finish(await guarded(opts, () => cmdBench(opts))));
  return program;
}

async function guarded(opts: CommonOpts, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    process.stderr.write(`grokscope: ${firstLine(err)}\n`);
    if (opts.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

const finish = (code: number): void => void (process.exitCode = code);

await buildProgram().parseAsync(process.argv);
