import type { Piscina } from 'piscina';
import { createTrainingPool } from '../../core/runs/pool.js';
import { tempDir } from './tmp.js';

type Hook = (fn: () => unknown) => void;

/**
 * For a test file or describe block that trains through the worker pool: one pool of one worker
 * and one scratch library folder, made in beforeAll and removed in afterAll (pool destroyed, folder
 * deleted). `before` runs ahead of the pool's creation (an environment the worker must inherit),
 * `after` once it is gone.
 */
export function poolAndLibrary(beforeAll: Hook, afterAll: Hook, o: { before?: () => void; after?: () => void } = {}): { readonly pool: Piscina; readonly dir: string } {
  const tmp = tempDir();
  let pool: Piscina | null = null;
  beforeAll(() => {
    o.before?.();
    pool = createTrainingPool(1);
  });
  afterAll(async () => {
    await pool?.destroy();
    o.after?.();
    tmp.cleanup();
  });
  return {
    get pool(): Piscina {
      if (!pool) throw new Error('the pool is made in beforeAll: use it inside a test');
      return pool;
    },
    dir: tmp.dir,
  };
}
