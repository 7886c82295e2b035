import type { MetricPoint } from '../api.js';
import type { MetricRow } from '../library/library.js';
import type { EvalRecord } from '../schema/eval-record.js';
import { evalScalars } from '../library/metrics.js';

/**
 * The one mapping to the contract's metric point (api.ts), from a worker's evaluation record
 * (live progress, a finished run's last evaluation) or from a library row. The CLI's JSON and the
 * workbench both show these points, so they cannot disagree about a field.
 */
export function pointFromRecord(r: EvalRecord): MetricPoint {
  return {
    step: r.step,
    train_acc: r.train_acc,
    test_acc: r.test_acc,
    train_loss: r.train_loss,
    test_loss: r.test_loss,
    weight_norm: r.weight_norm,
    entropy: Object.fromEntries(Object.entries(r.probes).map(([probe, s]) => [probe, s!.entropy])),
    ...withScalars(Object.fromEntries(evalScalars(r))),
  };
}

export function pointFromRow({ step, train_acc, test_acc, train_loss, test_loss, weight_norm, entropy, scalars }: MetricRow): MetricPoint {
  return { step, train_acc, test_acc, train_loss, test_loss, weight_norm, entropy, ...withScalars(scalars) };
}

/** Scalars only when there are some: runs recorded before them keep their old, smaller points. */
function withScalars(scalars: Record<string, number> | undefined): { scalars?: Record<string, number> } {
  return scalars && Object.keys(scalars).length ? { scalars } : {};
}
