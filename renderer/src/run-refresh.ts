import type { ShallowRef } from 'vue';
import type { GrokscopeApi, MetricPoint, RunDetail } from '../../core/api';

/** The open run's full record is read again this often while it trains and the run view shows it. */
export const RELOAD_MS = 5000;
/** …and at most this often when a live point or event shows something the record lacks. */
export const EVENT_RELOAD_MS = 1000;

/**
 * Keeps the open run's record current while it trains. Live points (run-progress) carry metrics
 * only: the events — the header's T_mem, T_cross, T_grok — and the forecast are core's, and come
 * with the record (getRun). Before, the record was read again only on a live point more than 5 s
 * after the last read, so a run trained by another process (no live events) never refreshed, and
 * T_mem stayed "—" until the next read. Now it is read:
 * - every RELOAD_MS while the run view shows a run whose status is running, events or not;
 * - at once (at most every EVENT_RELOAD_MS) when a live point shows train accuracy at the run's
 *   memThreshold and the record has no T_mem yet — repeated until it has, since the point may
 *   arrive before the library has stored it (evaluations are written a second at a time) —, and
 *   on run-grokked and run-crossed (`marker`).
 * A background read leaves the error line alone unless it fails.
 */
export function useRunRefresh(api: GrokscopeApi, current: ShallowRef<RunDetail | null>, runViewShown: () => boolean, onError: (message: string) => void) {
  let last = 0;
  let ticker: ReturnType<typeof setInterval> | null = null;

  async function reload(id: string): Promise<void> {
    last = Date.now();
    try {
      const run = await api.getRun(id);
      if (current.value?.id === id) current.value = run;
    } catch (err) {
      onError((err as Error).message);
    }
  }
  const since = (): number => Date.now() - last;
  /** The record lacks T_mem although a live point shows memorisation. */
  const memorisedUnmarked = (run: RunDetail, latest: MetricPoint): boolean => (run.events?.T_mem ?? null) === null && latest.train_acc >= Number(run.config.memThreshold ?? 0.99);

  return {
    reload,
    /** The open run was just read (opened). */
    read(): void {
      last = Date.now();
    },
    /** A live point of the open run, appended to its metrics already. */
    livePoint(id: string, latest: MetricPoint): void {
      const run = current.value;
      if (run?.id !== id) return;
      if (since() > RELOAD_MS || (since() > EVENT_RELOAD_MS && memorisedUnmarked(run, latest))) void reload(id);
    },
    /** A marker event (grokked, crossed) of a run. */
    marker(id: string): void {
      if (current.value?.id === id && since() > EVENT_RELOAD_MS) void reload(id);
    },
    start(): void {
      ticker = setInterval(() => {
        const run = current.value;
        if (run && run.status === 'running' && runViewShown() && since() >= RELOAD_MS) void reload(run.id);
      }, EVENT_RELOAD_MS);
    },
    stop(): void {
      if (ticker) clearInterval(ticker);
      ticker = null;
    },
  };
}
