import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Library, type RunRecord } from '../library.js';
import type { MetricRow } from '../metrics.js';
import { events, frameRecord, type HParam } from '../../interop/tfevents.js';
import { ExportError } from './export-error.js';
import { currentEvents } from '../traces.js';
import { DEFAULT_INIT } from '../../models/init.js';

/**
 * `grokscope export RUN… --format tensorboard -o DIR`: one folder per run with an event file
 * (interop/tfevents.ts), so `tensorboard --logdir DIR`, `wandb sync --sync-tensorboard DIR` and
 * `aim convert tensorboard` show our runs. Per evaluation, one summary of scalars: losses,
 * accuracies, ‖θ‖, H̃, effective rank and top-5 share per probe, Fourier share and Gini (values
 * a run does not have, as an imported run's, are left out rather than written as NaN). The events
 * T_mem, T_rise, T_cross, T_grok… (recomputed from the metrics) as text at their step, the leads,
 * test accuracy at T_cross and below_at_mem as text at step 0; the config as text and as the HParams plugin's
 * session (its scalar fields, and `init` written out where the config leaves it to its default, except
 * for a run trained elsewhere), ended with the run's status.
 *
 * Wall times: we do not store when each evaluation happened, so every event carries the run's
 * creation time and the session end its last update — TensorBoard's step axis is the one to read.
 */
export function scalarsOf(row: MetricRow): [string, number][] {
  const out: [string, number][] = [
    ['loss/train', row.train_loss],
    ['loss/test', row.test_loss],
    ['accuracy/train', row.train_acc],
    ['accuracy/test', row.test_acc],
    ['weight_norm', row.weight_norm],
  ];
  for (const [probe, v] of Object.entries(row.entropy)) out.push([`entropy/${probe}`, v]);
  for (const [probe, v] of Object.entries(row.eff_rank)) out.push([`eff_rank/${probe}`, v]);
  for (const [probe, v] of Object.entries(row.top5_share)) out.push([`top5_share/${probe}`, v]);
  if (row.fourier_topk_share !== null) out.push(['fourier/topk_share', row.fourier_topk_share]);
  if (row.fourier_gini !== null) out.push(['fourier/gini', row.fourier_gini]);
  for (const [name, v] of Object.entries(row.scalars ?? {})) out.push([`logits/${name}`, v]);
  return out.filter(([, v]) => Number.isFinite(v));
}

const STATUS: Record<string, 0 | 1 | 2 | 3> = { completed: 1, failed: 2, running: 3, queued: 3 };

export function eventFile(run: RunRecord, rows: MetricRow[]): Buffer {
  const t0 = Date.parse(run.createdAt) / 1000;
  const t1 = Date.parse(run.updatedAt) / 1000;
  const hparams: Record<string, HParam> = {};
  for (const [k, v] of Object.entries(run.config)) if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') hparams[k] = v;
  if (run.origin !== 'external') hparams.init ??= DEFAULT_INIT;
  const records: Uint8Array[] = [
    events.fileVersion(t0),
    events.sessionStart(t0, hparams, t0),
    events.text(t0, 0, 'config', `\`\`\`json\n${JSON.stringify(run.config, null, 2)}\n\`\`\``),
  ];
  for (const row of rows) records.push(events.scalars(t0, row.step, scalarsOf(row)));
  // Recomputed from the rows, as every view shows them (library/traces.ts currentEvents).
  for (const [name, step] of Object.entries(currentEvents(run, rows) ?? {})) {
    records.push(events.text(t0, typeof step === 'number' && name.startsWith('T_') ? step : 0, `events/${name}`, step === null ? 'not reached' : String(step)));
  }
  records.push(events.sessionEnd(t1, rows.length ? rows[rows.length - 1].step : 0, STATUS[run.status] ?? 0, t1));
  return Buffer.concat(records.map(frameRecord));
}

export async function exportTensorBoard(libraryDir: string, runArgs: string[], outDir: string): Promise<string[]> {
  if (runArgs.length === 0) throw new ExportError('name at least one run to export');
  const runs = await Library.with(libraryDir, async (lib) => {
    const ids = await lib.resolveRunIds(runArgs);
    return Promise.all(ids.map(async (id) => ({ run: await lib.getRun(id), rows: await lib.getMetrics(id) })));
  });
  for (const { run } of runs) {
    const dir = path.join(outDir, run.id);
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new ExportError(`${dir} exists and is not empty: choose another folder`);
  }
  const files = runs.map(({ run, rows }) => ({ file: path.join(outDir, run.id, `events.out.tfevents.${Math.floor(Date.parse(run.createdAt) / 1000)}.grokscope`), bytes: eventFile(run, rows) }));
  for (const f of files) {
    mkdirSync(path.dirname(f.file), { recursive: true });
    writeFileSync(f.file, f.bytes);
  }
  return files.map((f) => f.file);
}
