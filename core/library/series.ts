import type { DuckDBConnection, DuckDBListVector, DuckDBMaterializedResult } from '@duckdb/node-api';
import { str } from './sql.js';

/**
 * A run's evaluations as typed columns, sorted by step, one probe's entropy: what the compare
 * view and the analysis need, without a row object per evaluation.
 *
 * Why not `getMetrics`: for 100 runs × 10,000 evaluations, building row objects and reading
 * DuckDB's result row by row took ~4.9 s of a 6.7 s compare (measured, docs/benchmarks.md).
 * Here each column comes back as one DuckDB list per run (`list()` per run_id, two queries for
 * all runs), whose values sit in one flat child vector: 0.3–0.9 s for the same data (DuckDB's
 * aggregation is most of it).
 */
export interface RunSeries {
  step: Float64Array;
  train_acc: Float64Array;
  test_acc: Float64Array;
  weight_norm: Float64Array;
  /** Test loss (T_loss_peak, onset.ts); NaN where not measured. Optional: series built elsewhere may lack it. */
  test_loss?: Float64Array;
  /** H̃ of the probe asked for; NaN where it was not measured. */
  entropy: Float64Array;
}

/** Copy one list column's values for every row of a chunk (null → NaN). */
function listColumn(vector: DuckDBListVector, rows: number): Float64Array[] {
  const child = vector.childVector;
  const out: Float64Array[] = [];
  for (let r = 0; r < rows; r++) {
    const offset = vector.getEntryOffset(r);
    const length = vector.getEntryLength(r);
    const a = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      const v = child.getItem(offset + i);
      a[i] = v === null ? NaN : Number(v);
    }
    out.push(a);
  }
  return out;
}

/** Rows of `SELECT run_id, list(a), list(b), … GROUP BY run_id` as id → columns. */
function readLists(result: DuckDBMaterializedResult): Map<string, Float64Array[]> {
  const out = new Map<string, Float64Array[]>();
  for (let k = 0; k < result.chunkCount; k++) {
    const chunk = result.getChunk(k);
    const rows = chunk.rowCount;
    const ids = chunk.getColumnVector(0);
    const columns: Float64Array[][] = [];
    for (let c = 1; c < chunk.columnCount; c++) columns.push(listColumn(chunk.getColumnVector(c) as DuckDBListVector, rows));
    for (let r = 0; r < rows; r++) out.set(String(ids.getItem(r)), columns.map((col) => col[r]));
  }
  return out;
}

/**
 * `list()` without ORDER BY is much cheaper than with it, and its order is DuckDB's scan order,
 * which is step order for almost every run but not guaranteed (measured: 3 of 100 runs came back
 * out of order after parallel aggregation). Sort those here; equal steps keep the last one seen,
 * as the row-wise reader did.
 */
function sortByStep(columns: Float64Array[]): Float64Array[] {
  const step = columns[0];
  let sorted = true;
  for (let i = 1; i < step.length; i++) {
    if (!(step[i] > step[i - 1])) {
      sorted = false;
      break;
    }
  }
  if (sorted) return columns;
  const order = Array.from(step.keys()).sort((a, b) => step[a] - step[b] || a - b);
  const keep = order.filter((idx, j) => j + 1 === order.length || step[order[j + 1]] !== step[idx]);
  return columns.map((col) => Float64Array.from(keep, (idx) => col[idx]));
}

export async function readRunSeries(con: DuckDBConnection, ids: string[], probe: string): Promise<Map<string, RunSeries>> {
  const out = new Map<string, RunSeries>();
  if (ids.length === 0) return out;
  const inList = ids.map(str).join(', ');
  const metrics = readLists(
    (await con.run(
      `SELECT run_id, list(step::DOUBLE), list(train_acc), list(test_acc), list(weight_norm), list(test_loss) FROM metrics WHERE run_id IN (${inList}) GROUP BY run_id`,
    )) as DuckDBMaterializedResult,
  );
  const probes = readLists(
    (await con.run(
      `SELECT run_id, list(step::DOUBLE), list(entropy) FROM probe_metrics WHERE probe = ${str(probe)} AND run_id IN (${inList}) GROUP BY run_id`,
    )) as DuckDBMaterializedResult,
  );
  for (const id of ids) {
    const m = metrics.get(id);
    if (!m) {
      const empty = new Float64Array(0);
      out.set(id, { step: empty, train_acc: empty, test_acc: empty, weight_norm: empty, test_loss: empty, entropy: empty });
      continue;
    }
    const [step, train_acc, test_acc, weight_norm, test_loss] = sortByStep(m);
    // Align the probe's entropy to the metric steps (both sorted): NaN where the probe has no row.
    const entropy = new Float64Array(step.length).fill(NaN);
    const p = probes.get(id);
    if (p) {
      const [pStep, pEntropy] = sortByStep(p);
      for (let i = 0, j = 0; i < step.length && j < pStep.length; ) {
        if (pStep[j] === step[i]) entropy[i++] = pEntropy[j++];
        else if (pStep[j] < step[i]) j++;
        else i++;
      }
    }
    out.set(id, { step, train_acc, test_acc, weight_norm, test_loss, entropy });
  }
  return out;
}
