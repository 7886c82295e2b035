import type { MetricPoint } from '../../core/api.js';
import { pointFromRecord } from '../../core/service/points.js';
import type { RunOutcome } from '../../core/runs/run-executor.js';
import { UserError } from './errors.js';
import { GroupProgressBar, ProgressBar, type RunProgressEvent } from './progress.js';
import { buildRunConfig, parseSeeds } from './run-config.js';
import { printJson, withService, type CommonOpts } from './common.js';
import { interruptible } from './interrupt.js';

/** `grokscope run`: one run, a run to resume, or (--seeds) a run group. */
/** The live alert, one line (docs/methods.md, "Anti-grokking"). */
function antiGrokLine(e: { id: string; step: number; testAcc: number }): string {
  return `warning: run ${e.id} is anti-grokking: test accuracy fell back after grokking, from step ${e.step} (now ${(e.testAcc * 100).toFixed(1)} %)`;
}

export function runJson(o: RunOutcome): Record<string, unknown> {
  const f = o.final;
  return {
    id: o.runId,
    status: o.status,
    backend: o.backend,
    steps: o.steps,
    final: f ? finalJson(pointFromRecord(f)) : null,
    events: o.events ? { T_mem: o.events.T_mem, T_grok: o.events.T_grok, T_cross: o.events.T_cross, lead: o.events.lead, T_anti: o.events.T_anti ?? null } : null,
    ...(o.error ? { error: o.error } : {}),
  };
}

/** The CLI contract's `final` object: a metric point without its step. */
function finalJson({ step: _step, ...rest }: MetricPoint): Omit<MetricPoint, 'step'> {
  return rest;
}

export async function cmdRun(opts: CommonOpts & Record<string, unknown>): Promise<number> {
  if (opts.seeds !== undefined) return cmdRunGroup(opts);
  const config = opts.resume ? undefined : buildRunConfig(opts);
  const stop = interruptible('stopping after the current step (checkpointing; Ctrl-C again to quit at once)…');
  const bar = new ProgressBar(config?.probe ?? 'resid.final');
  let last: RunProgressEvent | null = null;
  try {
    return await withService(opts, 1, async (service) => {
      service.subscribe((e) => {
        if (e.type === 'run-anti-grokking') bar.note(antiGrokLine(e));
        if (e.type !== 'run-progress') return;
        last = e;
        bar.update(e);
      });
      const outcome = await service.train(config ? { config } : { resume: String(opts.resume) }, stop.signal);
      bar.finish(last);
      if (opts.json) printJson(runJson(outcome));
      else {
        const e = outcome.events;
        process.stdout.write(
          `run ${outcome.runId}: ${outcome.status} after ${outcome.steps} steps on ${outcome.backend ?? '?'}` +
            (e ? ` — T_mem ${e.T_mem ?? '—'}, T_grok ${e.T_grok ?? '—'}, T_cross ${e.T_cross ?? '—'}, lead ${e.lead ?? '—'}` : '') +
            (e?.T_anti != null ? `; anti-grokking from step ${e.T_anti}` : '') +
            '\n',
        );
        if (outcome.status === 'stopped') process.stdout.write(`resume with: grokscope run --resume ${outcome.runId}\n`);
      }
      if (outcome.status === 'failed') throw new UserError(`run ${outcome.runId} failed: ${outcome.error}`);
      return outcome.status === 'stopped' ? 130 : 0;
    });
  } finally {
    stop.release();
  }
}

/** `run --seeds`: the seeds as one run group; with --json, one array of run summaries. */
async function cmdRunGroup(opts: CommonOpts & Record<string, unknown>): Promise<number> {
  if (opts.resume) throw new UserError('--seeds starts new runs; resume each run of a group with --resume RUN');
  if (opts.seed !== undefined) throw new UserError('give either --seed or --seeds, not both');
  const seeds = parseSeeds(String(opts.seeds));
  const base = buildRunConfig(opts);
  const configs = seeds.map((seed) => ({ ...base, seed }));
  const stop = interruptible('stopping every run after the current step (checkpointing; Ctrl-C again to quit at once)…');
  const bar = new GroupProgressBar(configs.length, base.probe);
  try {
    return await withService(opts, 1, async (service) => {
      service.subscribe((e) => {
        if (e.type === 'run-anti-grokking') bar.note(antiGrokLine(e));
        if (e.type === 'run-progress') bar.update(e);
        if (e.type === 'run-finished') bar.end(e.id);
      });
      const outcomes = await service.trainGroup(configs, stop.signal);
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
              (e?.T_anti != null ? `; anti-grokking from step ${e.T_anti}` : '') +
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
    stop.release();
  }
}
