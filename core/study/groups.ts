import type { PlannedRun } from './spec.js';
import { groupShapeKey } from '../train/engine.js';
import type { RunConfig } from '../schema/run-config.js';

/**
 * A study's runs packed into run groups: runs of one shape (groupShapeKey) in plan order, at most
 * `size` per group. Runs that depend on others (norm-matched on their mix run) are packed apart,
 * after every independent run, so that no group waits on a run of its own.
 */
export interface PlannedGroup {
  runs: PlannedRun[];
}

export function packGroups(plan: PlannedRun[], size: number | ((config: PlannedRun['config']) => number)): PlannedGroup[] {
  const sizeOf = typeof size === 'number' ? () => size : size;
  const out: PlannedGroup[] = [];
  for (const stage of [plan.filter((r) => !r.dependsOn), plan.filter((r) => r.dependsOn)]) {
    const open = new Map<string, PlannedGroup>();
    for (const run of stage) {
      const key = groupShapeKey(run.config as RunConfig);
      let group = open.get(key);
      if (!group || group.runs.length >= Math.max(1, sizeOf(run.config))) {
        group = { runs: [] };
        open.set(key, group);
        out.push(group);
      }
      group.runs.push(run);
    }
  }
  return out;
}
