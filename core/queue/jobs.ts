import { createHash } from 'node:crypto';
import type { StudySpec } from '../schema/study-spec.js';

/**
 * What travels through the queue (docs/scale-out.md): one job per run group of a study. A job
 * names the study's spec in full (a worker validates it and plans the same runs), the planned
 * keys it trains, and for runs that replay a `mix` run the saved run of that mix run, which the
 * coordinator imported first. Results come back as saved runs (.grokrun) in the results store
 * (result-store.ts), digest-checked on import.
 */
export const QUEUE_NAME = 'grokscope-runs';

export interface GroupJob {
  study: string;
  spec: StudySpec;
  keys: string[];
  /** Saved runs of the runs these keys depend on: key → its reference in the results store. */
  deps: { key: string; file: string }[];
}

export interface GroupJobResult {
  /** Each run's saved run: its reference in the results store (a path, or redis:NAME). */
  runs: { key: string; file: string }[];
}

/**
 * The job's id: the study, a digest of its spec and the group's keys. The same group of the same
 * spec is the same job, so enqueueing a study again adds only what is missing (BullMQ ignores an
 * add whose id exists); another spec under the same name gets other ids.
 */
export function groupJobId(spec: StudySpec, keys: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(spec)).update('\0').update(keys.join('\0')).digest('hex').slice(0, 24);
  return `${spec.name}.${digest}`;
}
