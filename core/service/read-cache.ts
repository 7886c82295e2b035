import { libraryVersion, type LibraryVersion } from '../library/file-version.js';

/**
 * Answers of read-only calls (list the runs, open a run) kept while the library's files are
 * unchanged (library/file-version.ts), so a browser that asks again — every client refreshes its
 * list on each library change, eight tabs ask the same thing — costs two stat calls instead of a
 * DuckDB session (~30 ms) each. Callers asking the same thing at the same version share one read.
 *
 * Right after a write the version is not yet settled (its time stamp could still be repeated by
 * another write): a call then waits the few milliseconds until it is, rather than read at once
 * uncached — measured with `npm run bench:serve -- --writes 1`, reading at once made every call
 * in that window a session of its own, and the queue of sessions grew to seconds. Everything is
 * dropped when the version moves; a failed read is not kept. Answers are shared between callers:
 * they must treat them as read-only (the transports serialise them; no caller mutates them).
 */
export const MAX_SETTLE_WAITS = 3;

export class ReadCache {
  private version: string | null = null;
  private readonly answers = new Map<string, Promise<unknown>>();

  constructor(
    private readonly libraryDir: string,
    private readonly maxAnswers = 64,
  ) {}

  async read<T>(key: string, load: () => Promise<T>): Promise<T> {
    let v = libraryVersion(this.libraryDir);
    for (let wait = 0; v && !v.settled && wait < MAX_SETTLE_WAITS; wait++) {
      await new Promise((r) => setTimeout(r, v!.settlesInMs));
      v = libraryVersion(this.libraryDir);
    }
    // No file yet, or written to without pause: read uncached.
    if (!v?.settled) return load();
    return this.readAt(v, key, load);
  }

  private readAt<T>(v: LibraryVersion, key: string, load: () => Promise<T>): Promise<T> {
    if (v.key !== this.version) {
      this.answers.clear();
      this.version = v.key;
    }
    const held = this.answers.get(key);
    if (held) {
      // Most recently used last: the oldest answer is the first dropped.
      this.answers.delete(key);
      this.answers.set(key, held);
      return held as Promise<T>;
    }
    const answer = load();
    this.answers.set(key, answer);
    answer.catch(() => {
      if (this.answers.get(key) === answer) this.answers.delete(key);
    });
    if (this.answers.size > this.maxAnswers) this.answers.delete(this.answers.keys().next().value!);
    return answer;
  }

  /** Answers held now (for tests). */
  get size(): number {
    return this.answers.size;
  }
}
