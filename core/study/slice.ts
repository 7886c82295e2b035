import { setMaxListeners } from 'node:events';
import type { Library } from '../library/library.js';
import type { RunConfig } from '../schema/run-config.js';
import { groupShapeKey } from '../train/engine.js';
import { rateTables, shapeOf, type MeasuredRun } from './estimate.js';
import type { PlannedRun } from './spec.js';
import type { PlannedGroup } from './groups.js';

/**
 * A study in slices (`grokscope study SPEC --time-budget 9m`): the runner starts a run group only
 * when it expects the group to end within the budget, from the speed measured so far; groups it
 * did not start are left for the next invocation, which resumes the study as any second
 * invocation does (completed runs are kept, stopped ones resume from their checkpoints).
 *
 * A group's time comes, most trusted first, from groups of the same shape and size timed in this
 * invocation (wall time per step actually trained, worker start included), then from the
 * library's completed trained runs of the shape (steps over wall time from creation to last
 * update: a run trained in a group took its group's time, so a group's estimate is its slowest
 * member's, not their sum); a shape known to neither has no estimate, and the runner then starts
 * one such group when nothing else is training, to measure it. Estimates use each run's whole
 * budget of steps: an upper bound when runs stop early after grokking.
 *
 * A group still training when the budget is spent goes on for a grace period (10 % of the budget,
 * at least 30 s); still training then, its runs are stopped at their next step, checkpointed, and
 * resumed from there by the next invocation (docs/decisions.md, 2026-12-05).
 */
export interface TimeBudget {
  seconds: number;
  /** How long a group started within the budget may go on past it before it is stopped (default graceFor(seconds)). */
  graceSeconds?: number;
  /** Groups trained at once (the pool's size): a group starts only when one of them is free. */
  workers: number;
  /** Completed trained runs of the library, for their speed (measuredRuns). */
  measured: MeasuredRun[];
  /** When the budget started (default: when the runner starts). */
  startedAt?: number;
  /** The clock (default Date.now; tests move it on). */
  now?: () => number;
}

/** What a sliced invocation did and left (the CLI's one line). */
export interface SliceReport {
  budgetSeconds: number;
  groups: number;
  /** Groups started in this invocation. */
  trained: number;
  /** Groups whose every run the library already held completed. */
  doneBefore: number;
  /** Groups with a run deferred or stopped at the end (left for the next invocation). */
  left: number;
  /** The left groups' estimated time over the workers, or null where a shape has no rate yet. */
  leftSeconds: number | null;
  /** Runs stopped at their next step because their group ran past the budget and its grace. */
  stoppedAtLimit: number;
  elapsedSeconds: number;
}

/** The grace a group started within the budget gets past it: 10 % of the budget, at least 30 s. */
export function graceFor(budgetSeconds: number): number {
  return Math.max(30, budgetSeconds * 0.1);
}

/** "9m", "90s", "1.5h", "1h30m" → seconds; null when it is not a duration. */
export function parseTimeBudget(text: string): number | null {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?[smh])+$/.test(t)) return null;
  let seconds = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)([smh])/g)) seconds += Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
  return seconds > 0 ? seconds : null;
}

/** The library's completed trained runs (the latest 500), as step rates for estimates. */
export async function measuredRuns(lib: Library): Promise<MeasuredRun[]> {
  const done = (await lib.listRunsDetailed()).filter((r) => r.status === 'completed' && r.origin === 'trained').slice(-500);
  return (await lib.getRuns(done.map((r) => r.id))).map((r): MeasuredRun => ({ ...r.config, steps: r.stepsDone, seconds: (Date.parse(r.updatedAt) - Date.parse(r.createdAt)) / 1000 }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Group timings of this invocation and the library's rates: a group's expected seconds. */
export class GroupClock {
  private readonly session = new Map<string, number[]>(); // shape|size → seconds per step
  private readonly rates: Map<string, number[]>;

  constructor(measured: MeasuredRun[]) {
    this.rates = rateTables(measured, []).rates;
  }

  private key(runs: PlannedRun[]): string {
    return `${groupShapeKey(runs[0].config as RunConfig)}|${runs.length}`;
  }

  /** A group of `runs` (those it will train) took `seconds` for `steps` steps (its longest run's). */
  record(runs: PlannedRun[], seconds: number, steps: number): void {
    if (runs.length === 0 || steps <= 0 || !(seconds > 0)) return;
    const k = this.key(runs);
    this.session.set(k, [...(this.session.get(k) ?? []), seconds / steps]);
  }

  /** Expected seconds for a group training `runs` (their whole budgets), or null when unknown. */
  estimate(runs: PlannedRun[]): number | null {
    if (runs.length === 0) return 0;
    const steps = Math.max(...runs.map((r) => r.config.steps));
    const own = this.session.get(this.key(runs));
    if (own) return steps * Math.max(...own);
    let worst = 0;
    for (const r of runs) {
      const rs = this.rates.get(shapeOf(r.config));
      if (!rs) return null;
      worst = Math.max(worst, r.config.steps / median(rs));
    }
    return worst;
  }
}

/**
 * The groups of a study under a time budget (slice.ts), in plan order: a group whose runs are all
 * completed passes at once; any other waits for a free worker (and for the runs it depends on),
 * then starts only if its estimate ends within the budget — a group no rate covers starts when
 * nothing else trains, to be measured; otherwise it is deferred. Past the budget and its grace,
 * groups still training are stopped at their next step (checkpointed, resumable).
 */
export async function trainWithinBudget(
  budget: TimeBudget,
  groups: PlannedGroup[],
  o: {
    isDone: (key: string) => boolean;
    settled: (key: string) => Promise<{ status: string }>;
    execute: (group: PlannedGroup, signal: AbortSignal) => Promise<void>;
    defer: (group: PlannedGroup) => void;
    stepsTrained: (runs: PlannedRun[]) => number;
    signal?: AbortSignal;
    /** Hands over the check of the time limit, run at each progress report. */
    onTick: (check: () => void) => void;
  },
): Promise<{ started: number; stoppedAtLimit: boolean; elapsedSeconds: number; clock: GroupClock }> {
  const now = budget.now ?? Date.now;
  const t0 = budget.startedAt ?? now();
  const deadline = t0 + budget.seconds * 1000;
  const hardLimit = deadline + (budget.graceSeconds ?? graceFor(budget.seconds)) * 1000;
  const clock = new GroupClock(budget.measured);
  const limit = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, limit.signal]) : limit.signal;
  setMaxListeners(0, signal); // every run of every group listens to it
  const check = (): void => {
    if (!limit.signal.aborted && now() >= hardLimit) limit.abort();
  };
  o.onTick(check);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    check();
    if (limit.signal.aborted) return;
    timer = setTimeout(arm, Math.min(60_000, Math.max(10, hardLimit - now())));
    timer.unref?.();
  };
  arm();
  let running = 0;
  let started = 0;
  let wake: (() => void) | null = null;
  const changed = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  const tasks: Promise<void>[] = [];
  try {
    for (const group of groups) {
      const todo = group.runs.filter((r) => !o.isDone(r.key));
      // Nothing to train, or stopped by the user (Ctrl-C): the group reports its runs as they are.
      if (todo.length === 0 || o.signal?.aborted) {
        tasks.push(o.execute(group, signal));
        continue;
      }
      // Runs whose mix run is not completed will not train (deferred or failed with it).
      const deps = await Promise.all(todo.map((r) => (r.dependsOn ? o.settled(r.dependsOn) : null)));
      const trainable = todo.filter((_, i) => deps[i] === null || deps[i]!.status === 'completed');
      if (trainable.length === 0) {
        tasks.push(o.execute(group, signal));
        continue;
      }
      while (running >= Math.max(1, budget.workers)) await changed();
      let estimate = clock.estimate(trainable);
      while (estimate === null && running > 0) {
        await changed();
        estimate = clock.estimate(trainable);
      }
      const at = now();
      if (signal.aborted || at >= deadline || (estimate !== null && at + estimate * 1000 > deadline)) {
        o.defer(group);
        continue;
      }
      running++;
      started++;
      const t = now();
      tasks.push(
        o.execute(group, signal).finally(() => {
          clock.record(trainable, (now() - t) / 1000, o.stepsTrained(trainable));
          running--;
          const w = wake;
          wake = null;
          w?.();
        }),
      );
    }
    await Promise.all(tasks);
  } finally {
    clearTimeout(timer);
  }
  return { started, stoppedAtLimit: limit.signal.aborted, elapsedSeconds: (now() - t0) / 1000, clock };
}
