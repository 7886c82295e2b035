import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolveLibraryDir } from '../../core/library/paths.js';
import type { MetricPoint } from '../../core/api.js';
import { pointFromRecord } from '../../core/service/points.js';
import { createTrainingPool } from '../../core/runs/pool.js';
import type { RunOutcome } from '../../core/runs/run-executor.js';
import { GrokscopeService } from '../../core/service/service.js';
import { median } from '../../core/analysis/stats.js';
import { PRESETS, type RunConfig } from '../../core/schema/run-config.js';
import { BACKEND_CHOICES } from '../../core/schema/backend-choices.js';
import { ARCHS } from '../../core/models/config.js';
import type { BenchResult, BenchTask } from '../../core/runs/protocol.js';
import { UserError } from './errors.js';
import { firstLine } from '../../core/errors.js';
import { cmdStudy } from './study.js';
import { cmdExport, cmdImport, cmdReproduce } from './transfer.js';
import { cmdServe } from './serve.js';
import { GroupProgressBar, ProgressBar, type RunProgressEvent } from './progress.js';
import { RUN_FLAGS, buildRunConfig, parseSeeds } from './run-config.js';

interface CommonOpts {
  library?: string;
  json?: boolean;
  debug?: boolean;
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--library <dir>', 'run library folder (default: $GROKSCOPE_LIBRARY, else the app’s user-data folder)')
    .option('--json', 'print one JSON value on the last line of stdout')
    .option('--debug', 'show stack traces on errors');
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function runJson(o: RunOutcome): Record<string, unknown> {
  const f = o.final;
  return {
    id: o.runId,
    status: o.status,
    backend: o.backend,
    steps: o.steps,
    final: f ? finalJson(pointFromRecord(f)) : null,
    events: o.events ? { T_mem: o.events.T_mem, T_grok: o.events.T_grok, T_cross: o.events.T_cross, lead: o.events.lead } : null,
    ...(o.error ? { error: o.error } : {}),
  };
}

/** The CLI contract's `final` object: a metric point without its step. */
function finalJson({ step: _step, ...rest }: MetricPoint): Omit<MetricPoint, 'step'> {
  return rest;
}

/**
 * The CLI's run, list, show and export-csv go through GrokscopeService like the other hosts, so the
 * live events, metric points and CSV columns are the ones the workbench shows. bench times the
 * worker directly (nothing of the contract is in it); study, export, import and reproduce call the
 * core functions the service calls, for what the contract does not carry (docs/decisions.md).
 */
async function withService<T>(opts: CommonOpts, workers: number, fn: (service: GrokscopeService) => Promise<T>): Promise<T> {
  const pool = workers > 0 ? createTrainingPool(workers) : null;
  try {
    return await fn(new GrokscopeService(resolveLibraryDir(opts.library), pool));
  } finally {
    await pool?.destroy();
  }
}

async function cmdRun(opts: CommonOpts & Record<string, unknown>): Promise<number> {
  if (opts.seeds !== undefined) return cmdRunGroup(opts);
  const config = opts.resume ? undefined : buildRunConfig(opts);
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after the current step (checkpointing; Ctrl-C again to quit at once)…\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const bar = new ProgressBar(config?.probe ?? 'resid.final');
  let last: RunProgressEvent | null = null;
  try {
    return await withService(opts, 1, async (service) => {
      service.subscribe((e) => {
        if (e.type !== 'run-progress') return;
        last = e;
        bar.update(e);
      });
      const outcome = await service.train(config ? { config } : { resume: String(opts.resume) }, abort.signal);
      bar.finish(last);
      if (opts.json) printJson(runJson(outcome));
      else {
        const e = outcome.events;
        process.stdout.write(
          `run ${outcome.runId}: ${outcome.status} after ${outcome.steps} steps on ${outcome.backend ?? '?'}` +
            (e ? ` — T_mem ${e.T_mem ?? '—'}, T_grok ${e.T_grok ?? '—'}, T_cross ${e.T_cross ?? '—'}, lead ${e.lead ?? '—'}` : '') +
            '\n',
        );
        if (outcome.status === 'stopped') process.stdout.write(`resume with: grokscope run --resume ${outcome.runId}\n`);
      }
      if (outcome.status === 'failed') throw new UserError(`run ${outcome.runId} failed: ${outcome.error}`);
      return outcome.status === 'stopped' ? 130 : 0;
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `run --seeds`: the seeds as one run group; with --json, one array of run summaries. */
async function cmdRunGroup(opts: CommonOpts & Record<string, unknown>): Promise<number> {
  if (opts.resume) throw new UserError('--seeds starts new runs; resume each run of a group with --resume RUN');
  if (opts.seed !== undefined) throw new UserError('give either --seed or --seeds, not both');
  const seeds = parseSeeds(String(opts.seeds));
  const base = buildRunConfig(opts);
  const configs = seeds.map((seed) => ({ ...base, seed }));
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping every run after the current step (checkpointing; Ctrl-C again to quit at once)…\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const bar = new GroupProgressBar(configs.length, base.probe);
  try {
    return await withService(opts, 1, async (service) => {
      service.subscribe((e) => {
        if (e.type === 'run-progress') bar.update(e);
        if (e.type === 'run-finished') bar.end(e.id);
      });
      const outcomes = await service.trainGroup(configs, abort.signal);
      bar.finish();
      const started = outcomes.filter((o): o is RunOutcome => o.runId !== null);
      if (opts.json) printJson(outcomes.map((o) => (o.runId === null ? { id: null, status: 'failed', error: o.error } : runJson(o))));
      else {
        outcomes.forEach((o, i) => {
          if (o.runId === null) {
            process.stdout.write(`seed ${seeds[i]}: could not start: ${o.error}\n`);
            return;
          }
          const e = o.events;
          process.stdout.write(
            `seed ${seeds[i]}: run ${o.runId} ${o.status} after ${o.steps} steps` +
              (e ? ` — T_mem ${e.T_mem ?? '—'}, T_grok ${e.T_grok ?? '—'}, T_cross ${e.T_cross ?? '—'}, lead ${e.lead ?? '—'}` : '') +
              (o.error ? ` (${o.error})` : '') +
              '\n',
          );
        });
        if (started[0]) process.stdout.write(`on ${started[0].backend ?? '?'}, as one run group of ${configs.length}\n`);
      }
      const failed = outcomes.filter((o) => o.status === 'failed');
      if (failed.length) throw new UserError(`${failed.length} of ${outcomes.length} runs failed: ${failed[0].error}`);
      return outcomes.some((o) => o.status === 'stopped') ? 130 : 0;
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
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

async function cmdShow(runArg: string, opts: CommonOpts): Promise<number> {
  const run = await withService(opts, 0, (service) => service.getRun(runArg, { forecast: false, spectra: false }));
  const metrics = run.metrics;
  if (opts.json) {
    printJson({ id: run.id, config: run.config, backend: run.backend, status: run.status, events: run.events, metrics });
    return 0;
  }
  const c = run.config as unknown as RunConfig;
  const out = [
    `run        ${run.id}  (${run.status}, ${run.stepsDone}/${c.steps} steps)`,
    `task       ${c.task}${c.task === 's5' ? '' : ` p=${c.p}`}, train fraction ${c.trainFraction}, seed ${c.seed}`,
    `model      ${c.arch} d=${c.dModel}${c.arch === 'transformer' ? ` heads=${c.nHeads}` : ''} d_mlp=${c.dMlp}; AdamW lr ${c.lr} wd ${c.weightDecay}`,
    `backend    ${run.backend ?? '—'}${run.backendNote ? ` (${run.backendNote})` : ''}`,
    `events     T_mem ${run.events?.T_mem ?? '—'}  T_grok ${run.events?.T_grok ?? '—'}  T_cross ${run.events?.T_cross ?? '—'} (H̃* ${c.entropyThreshold} on ${c.probe})  lead ${run.events?.lead ?? '—'}`,
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
    };
    if (opts.json) printJson(out);
    else
      process.stdout.write(
        `${out.preset}/${out.arch} on ${out.backend}: ${out.ms_per_step_median} ms/step median (min ${out.ms_per_step_min}) over ${steps} steps` +
          (group > 1 ? ` of a group of ${group} (${out.ms_per_run_step} ms per run-step)` : '') +
          `; evaluation ${out.ms_per_eval_median} ms\n`,
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
  const study = withCommon(
    program
      .command('study')
      .argument('<spec>', "'quick', 'paper' or a study spec JSON file")
      .option('--workers <n>', 'training workers (default: cores − 1)')
      .option('--out <dir>', 'report folder (default: ./study-<name>)')
      .option('--dry-run', 'print what it would train (runs, groups, steps) and stop')
      .option('--check <backend>', 'train the same runs again on this backend and report, per claim, whether the verdicts agree')
      .description('run a study through the worker pool (resumable) and write its report'),
  );
  study.action(async (specArg: string, opts) => finish(await guarded(opts, () => cmdStudy(specArg, opts))));
  withCommon(
    program
      .command('export')
      .argument('[runs...]', 'run ids or unique prefixes')
      .option('-o, --output <file>', 'FILE.grokrun (one run) or FILE.grokbundle (runs, study spec, lockfile, environment)')
      .option('--study <name>', 'add every run of this study (and its spec) to the bundle')
      .option('--checkpoints', 'include checkpoints (lets the importer resume the runs)')
      .description('save runs as a .grokrun or a reproducibility .grokbundle'),
  ).action(async (runs: string[], opts) => finish(await guarded(opts, () => cmdExport(runs, opts))));
  withCommon(
    program
      .command('import')
      .argument('<files...>', '.grokrun / .grokbundle files or their unpacked folders; with --external, CSV or Parquet files')
      .option('--external', 'read CSV/Parquet from other tools (TensorBoard, W&B): a step column and metric columns')
      .option('--metric <name>', 'external: name of the single value column of a TensorBoard CSV')
      .option('--task <task>', 'external: the task the run trained on (default mod-add)')
      .option('--arch <arch>', 'external: transformer or mlp (default transformer)')
      .option('--probe <probe>', 'external: the probe its entropy column measures (default resid.final)')
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

function finish(code: number): void {
  process.exitCode = code;
}

await buildProgram().parseAsync(process.argv);
