import type { Piscina } from 'piscina';
import type { LiveEvent } from '../api.js';
import type { RunConfig } from '../schema/run-config.js';
import { executeGroup, type MemberOutcome, type RunOutcome } from '../runs/run-executor.js';
import { ApiError } from './validate.js';
import { liveRunEvents } from './live-run.js';
import { firstLine } from '../errors.js';

/**
 * The service's training launches: a run group (or one run) in the host's pool, each run
 * registered in `active` (so stopRun finds its controller) from its creation to its end, with its
 * live events.
 */
export class RunLauncher {
  constructor(
    private readonly libraryDir: string,
    private readonly requirePool: () => Piscina,
    private readonly active: Map<string, AbortController>,
    private readonly emit: (e: LiveEvent) => void,
  ) {}

  /**
   * Train a new run (config) or continue a stopped or failed one (resumeRunId), with live events.
   * `created` settles once the run is in the library (or rejects with why it could not start);
   * `finished` with its outcome. A caller that only awaits `created` learns the end from events.
   */
  launch(config: RunConfig, resumeRunId: string | undefined, signal?: AbortSignal): { created: Promise<string>; finished: Promise<RunOutcome> } {
    const group = this.launchGroup([{ config, resumeRunId }], signal);
    const single = group.finished.then(([outcome]) => {
      if (outcome.runId === null) throw new ApiError(outcome.error);
      return outcome;
    });
    single.catch(() => undefined);
    const created = group.created.then(async ([id]) => {
      if (id !== null) return id;
      return single.then((o) => o.runId);
    });
    return { created, finished: single };
  }

  /**
   * Runs that differ only in their seed (startRun with `seeds`, as `run --seeds`), as one run
   * group: the ids of those that started, once created; why none could start otherwise.
   */
  async launchSeeds(configs: RunConfig[]): Promise<string[]> {
    const group = this.launchGroup(configs.map((config) => ({ config })));
    const started = (await group.created).filter((id): id is string => id !== null);
    if (started.length) return started;
    const outcomes = await group.finished.catch((err: unknown) => {
      throw new ApiError(firstLine(err));
    });
    throw new ApiError(outcomes.find((o) => o.error)?.error ?? 'no run of the group could start');
  }

  /**
   * Train a run group: each member is registered (stoppable by stopRun) once created, and emits its
   * own progress and end. `created` settles with the members' ids (null where one could not
   * start), or rejects when the group could not start at all.
   */
  launchGroup(
    members: { config: RunConfig; resumeRunId?: string }[],
    signal?: AbortSignal,
  ): { created: Promise<(string | null)[]>; finished: Promise<MemberOutcome[]> } {
    const pool = this.requirePool();
    let resolveIds!: (ids: (string | null)[]) => void;
    let rejectIds!: (e: Error) => void;
    const created = new Promise<(string | null)[]>((res, rej) => {
      resolveIds = res;
      rejectIds = rej;
    });
    const controllers = members.map(() => new AbortController());
    if (signal) {
      const abortAll = (): void => controllers.forEach((c) => c.abort());
      if (signal.aborted) abortAll();
      else signal.addEventListener('abort', abortAll, { once: true });
    }
    const ids: (string | null)[] = members.map(() => null);
    let started = false;
    const finished = executeGroup({
      libraryDir: this.libraryDir,
      pool,
      members: members.map((m, i) => ({
        ...(m.resumeRunId ? { resumeRunId: m.resumeRunId } : { config: m.config }),
        signal: controllers[i].signal,
        onCreated: (id: string) => {
          ids[i] = id;
          this.active.set(id, controllers[i]);
          this.emit({ type: 'library-changed' });
        },
        onProgress: liveRunEvents(m.config, (e) => this.emit(e)),
      })),
      onCreated: (all) => {
        started = true;
        resolveIds(all);
      },
    }).then(
      (outcomes) => {
        for (const o of outcomes) {
          if (o.runId === null) continue;
          this.active.delete(o.runId);
          this.emit({ type: 'run-finished', id: o.runId, status: o.status, error: o.error });
        }
        this.emit({ type: 'library-changed' });
        return outcomes;
      },
      (err: unknown) => {
        for (const id of ids) {
          if (id === null) continue;
          this.active.delete(id);
          this.emit({ type: 'run-finished', id, status: 'failed', error: firstLine(err) });
        }
        if (!started) rejectIds(new ApiError(firstLine(err)));
        throw err;
      },
    );
    // startRun and resumeRun await only `created`; a failure after it is reported by the events.
    finished.catch(() => undefined);
    return { created, finished };
  }
}
