import { LOGPROB_QUANTILES, finalProgressScalars, type EvalRecord, type FinalProgress } from '../schema/eval-record.js';
import { METRIC_TABLES, nowIso, type LibraryDb } from './db.js';
import { readRunSeries, type RunSeries } from './series.js';
import { doubleList, num, str } from './sql.js';

/** A run's evaluations: appended in batches, read as rows (one run) or typed series (many). */
export interface MetricRow {
  step: number;
  train_acc: number;
  test_acc: number;
  train_loss: number;
  test_loss: number;
  weight_norm: number;
  entropy: Record<string, number>;
  eff_rank: Record<string, number>;
  top5_share: Record<string, number>;
  fourier_topk_share: number | null;
  fourier_gini: number | null;
  /** Scalars of eval_scalars by name (logit_scale, max_softmax, train_margin); empty for older runs. */
  scalars: Record<string, number>;
}

/** The EvalRecord fields stored as eval_scalars rows, by name. */
export function evalScalars(r: EvalRecord): [string, number][] {
  const out: [string, number][] = r.logits ? [['logit_scale', r.logits.scale], ['max_softmax', r.logits.max_softmax], ['train_margin', r.logits.train_margin]] : [];
  if (r.weight_erank) out.push(['erank/embed', r.weight_erank.embed], ['erank/W_U', r.weight_erank.W_U]);
  for (const [name, s] of Object.entries(r.weight_spectra ?? {})) {
    if (s.alpha !== null) out.push([`alpha/${name}`, s.alpha]);
    out.push([`traps/${name}`, s.traps]);
  }
  if (r.update_edge) out.push(['update_gap', r.update_edge.gap], ['update_gap_k', r.update_edge.k]);
  r.logprob_quantiles?.forEach((x, k) => out.push([`logprob_q/${Math.round(100 * LOGPROB_QUANTILES[k])}`, x]));
  if (r.progress) {
    out.push(['progress/restricted_loss', r.progress.restricted_loss], ['progress/excluded_loss', r.progress.excluded_loss]);
    if (r.progress.neuron_logit_gini !== undefined) out.push(['progress/neuron_logit_gini', r.progress.neuron_logit_gini]);
    r.progress.key_freqs.forEach((w, k) => out.push([`progress/key_freq/${k + 1}`, w]));
    r.progress.logit_power.forEach((x, w) => out.push([`progress/logit_power/${w + 1}`, x]));
  }
  return out;
}

/** SQL NULL (a metric an external run does not have) reads as NaN. */
function orNaN(v: unknown): number {
  return v === null || v === undefined ? NaN : Number(v);
}

/** Append a batch of evaluations (and per-step weight norms) in one transaction. */
export async function appendEvals(db: LibraryDb, id: string, records: EvalRecord[], stepNorms: { step: number; norm: number }[] = []): Promise<void> {
  if (records.length === 0 && stepNorms.length === 0) return;
  const metrics: string[] = [];
  const probes: string[] = [];
  const norms: string[] = [];
  const spectra: string[] = [];
  const scalars: string[] = [];
  const rid = str(id);
  for (const r of records) {
    metrics.push(
      `(${rid}, ${r.step}, ${num(r.train_loss)}, ${num(r.train_acc)}, ${num(r.test_loss)}, ${num(r.test_acc)}, ${num(r.weight_norm)}, ${num(r.fourier?.topk_share)}, ${num(r.fourier?.gini)})`,
    );
    for (const [probe, s] of Object.entries(r.probes)) probes.push(`(${rid}, ${r.step}, ${str(probe)}, ${num(s!.entropy)}, ${num(s!.eff_rank)}, ${num(s!.top5_share)})`);
    for (const [tensor, n] of Object.entries(r.tensor_norms)) norms.push(`(${rid}, ${r.step}, ${str(tensor)}, ${num(n)})`);
    for (const [name, value] of evalScalars(r)) scalars.push(`(${rid}, ${r.step}, ${str(name)}, ${num(value)})`);
    for (const [probe, eig] of Object.entries(r.spectra ?? {})) spectra.push(`(${rid}, ${r.step}, ${str(probe)}, ${doubleList(eig!)})`);
  }
  const statements: string[] = [];
  if (metrics.length) statements.push(`INSERT INTO metrics VALUES ${metrics.join(',')}`);
  if (stepNorms.length) statements.push(`INSERT INTO step_norms VALUES ${stepNorms.map((n) => `(${rid}, ${n.step}, ${num(n.norm)})`).join(',')}`);
  if (probes.length) statements.push(`INSERT INTO probe_metrics VALUES ${probes.join(',')}`);
  if (norms.length) statements.push(`INSERT INTO tensor_norms VALUES ${norms.join(',')}`);
  if (spectra.length) statements.push(`INSERT INTO spectra VALUES ${spectra.join(',')}`);
  if (scalars.length) statements.push(`INSERT INTO eval_scalars VALUES ${scalars.join(',')}`);
  if (records.length) {
    const last = records[records.length - 1].step;
    statements.push(`UPDATE runs SET steps_done = ${last}, updated_at = ${str(nowIso())} WHERE id = ${rid}`);
  }
  await db.transaction(statements);
}

/**
 * Store a run's progress measures with its final key frequencies (eval_scalars `progress_final/…`),
 * replacing any stored before (by an end whose other writes failed, so that the run was resumed).
 */
export async function replaceFinalProgress(db: LibraryDb, id: string, f: FinalProgress): Promise<void> {
  const rid = str(id);
  const rows = finalProgressScalars(f).map(([step, name, value]) => `(${rid}, ${step}, ${str(name)}, ${num(value)})`);
  await db.transaction([`DELETE FROM eval_scalars WHERE run_id = ${rid} AND starts_with(name, 'progress_final/')`, ...(rows.length ? [`INSERT INTO eval_scalars VALUES ${rows.join(',')}`] : [])]);
}

/** Remove evaluations at or after `step` (before resuming from a checkpoint at `step`). */
export async function deleteEvalsFrom(db: LibraryDb, id: string, step: number): Promise<void> {
  await db.transaction([
    ...METRIC_TABLES.map((t) => `DELETE FROM ${t} WHERE run_id = ${str(id)} AND step >= ${step}`),
    // The norm after step `step` was recorded before the checkpoint and is not recomputed.
    `DELETE FROM step_norms WHERE run_id = ${str(id)} AND step > ${step}`,
  ]);
}

/** ‖θ‖ after every optimiser step, index = step (NaN where missing). */
export async function getStepNorms(db: LibraryDb, id: string): Promise<Float64Array> {
  const r = await db.con.runAndReadAll(`SELECT step, weight_norm FROM step_norms WHERE run_id = ${str(id)} ORDER BY step`);
  const rows = r.getRowsJS();
  const last = rows.length ? Number(rows[rows.length - 1][0]) : -1;
  const out = new Float64Array(last + 1).fill(NaN);
  for (const [step, norm] of rows) out[Number(step)] = Number(norm);
  return out;
}

export async function getMetrics(db: LibraryDb, id: string): Promise<MetricRow[]> {
  // Column-wise reads of only the needed columns: a compare of 100 runs × 10,000 evaluations
  // spent most of its time building row objects and decoding the run id of every row.
  const m = (
    await db.con.runAndReadAll(
      `SELECT step, train_acc, test_acc, train_loss, test_loss, weight_norm, fourier_topk_share, fourier_gini FROM metrics WHERE run_id = ${str(id)} ORDER BY step`,
    )
  ).getColumnsObjectJS();
  const rows = new Map<number, MetricRow>();
  const n = m.step.length;
  for (let i = 0; i < n; i++) {
    const step = Number(m.step[i]);
    rows.set(step, {
      step,
      train_acc: orNaN(m.train_acc[i]),
      test_acc: orNaN(m.test_acc[i]),
      train_loss: orNaN(m.train_loss[i]),
      test_loss: orNaN(m.test_loss[i]),
      weight_norm: orNaN(m.weight_norm[i]),
      entropy: {},
      eff_rank: {},
      top5_share: {},
      fourier_topk_share: m.fourier_topk_share[i] === null ? null : Number(m.fourier_topk_share[i]),
      fourier_gini: m.fourier_gini[i] === null ? null : Number(m.fourier_gini[i]),
      scalars: {},
    });
  }
  const p = (
    await db.con.runAndReadAll(`SELECT step, probe, entropy, eff_rank, top5_share FROM probe_metrics WHERE run_id = ${str(id)} ORDER BY step, probe`)
  ).getColumnsObjectJS();
  const np = p.step.length;
  for (let i = 0; i < np; i++) {
    const row = rows.get(Number(p.step[i]));
    if (!row) continue;
    const probe = String(p.probe[i]);
    row.entropy[probe] = orNaN(p.entropy[i]);
    row.eff_rank[probe] = orNaN(p.eff_rank[i]);
    row.top5_share[probe] = orNaN(p.top5_share[i]);
  }
  const sc = (await db.con.runAndReadAll(`SELECT step, name, value FROM eval_scalars WHERE run_id = ${str(id)} ORDER BY step, name`)).getColumnsObjectJS();
  for (let i = 0; i < sc.step.length; i++) {
    const row = rows.get(Number(sc.step[i]));
    if (row) row.scalars[String(sc.name[i])] = orNaN(sc.value[i]);
  }
  return [...rows.values()];
}

/** Typed columns of many runs at once, one probe's entropy (core/library/series.ts). */
export async function getSeries(db: LibraryDb, ids: string[], probe: string): Promise<Map<string, RunSeries>> {
  return readRunSeries(db.con, ids, probe);
}

export async function getTensorNorms(db: LibraryDb, id: string): Promise<{ step: number; tensor: string; norm: number }[]> {
  const r = await db.con.runAndReadAll(`SELECT step, tensor, norm FROM tensor_norms WHERE run_id = ${str(id)} ORDER BY step, tensor`);
  return r.getRowObjectsJS().map((x) => ({ step: Number(x.step), tensor: String(x.tensor), norm: Number(x.norm) }));
}

export async function getSpectra(db: LibraryDb, id: string): Promise<{ step: number; probe: string; eigenvalues: number[] }[]> {
  const r = await db.con.runAndReadAll(`SELECT step, probe, eigenvalues FROM spectra WHERE run_id = ${str(id)} ORDER BY step, probe`);
  return r.getRowObjectsJS().map((x) => ({ step: Number(x.step), probe: String(x.probe), eigenvalues: (x.eigenvalues as number[]).map(Number) }));
}

/** Extra columns of an external run, by name. */
export async function getExternalMetrics(db: LibraryDb, id: string): Promise<{ step: number; name: string; value: number }[]> {
  const r = await db.con.runAndReadAll(`SELECT step, name, value FROM external_metrics WHERE run_id = ${str(id)} ORDER BY name, step`);
  return r.getRowObjectsJS().map((x) => ({ step: Number(x.step), name: String(x.name), value: Number(x.value) }));
}
