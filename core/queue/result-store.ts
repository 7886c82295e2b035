import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { QueueConnection } from './connection.js';
import { exportRuns, type ExportOptions } from '../library/transfer.js';

/**
 * Where saved runs travel between workers and the coordinator (docs/scale-out.md): a folder both
 * reach (`--results DIR`), or Redis itself when there is no shared folder. Either way a result is
 * a whole .grokrun, put once complete and verified against its manifest on import; jobs carry
 * references, not bytes.
 */
export interface ResultStore {
  /** Store the saved run at `local` under `name`; the reference that job payloads carry. */
  put(name: string, local: string): Promise<string>;
  /** A local file with what `ref` refers to (the folder store's is the file itself); null if gone. */
  fetch(ref: string, scratch: string): Promise<string | null>;
  /** The reference of `name`, if it is stored. */
  find(name: string): Promise<string | null>;
  remove(name: string): Promise<void>;
  close(): Promise<void>;
}

/** The name of a study's run in a store: `STUDY/KEY.grokrun`, or under `partial/` while it trains. */
export function savedRunName(study: string, key: string, partial = false): string {
  return `${study}/${partial ? 'partial/' : ''}${key.replace(/[^A-Za-z0-9._@-]/g, '_')}.grokrun`;
}

/**
 * Export run `id` of a library as a saved run (through a file in `scratch`) and put it in the
 * store under `name`; its reference. What a worker hands in, uploads, and a coordinator re-shares.
 */
export async function storeRun(store: ResultStore, libraryDir: string, id: string, name: string, scratch: string, opts: ExportOptions = {}): Promise<string> {
  const local = path.join(scratch, `${process.pid}-${path.posix.basename(name)}`); // a .grokrun name: exportRuns goes by it
  rmSync(local, { force: true });
  try {
    await exportRuns(libraryDir, [id], local, opts);
    return await store.put(name, local);
  } finally {
    rmSync(local, { force: true });
  }
}

export function folderStore(dir: string): ResultStore {
  const at = (name: string): string => path.join(dir, ...name.split('/'));
  return {
    async put(name, local) {
      const dest = at(name);
      mkdirSync(path.dirname(dest), { recursive: true });
      // Copied under a private name and renamed: nobody sees half a file.
      const part = `${dest}.${process.pid}.part`;
      try {
        copyFileSync(local, part);
        renameSync(part, dest);
      } finally {
        rmSync(part, { force: true });
      }
      return dest;
    },
    async fetch(ref) {
      return existsSync(ref) ? ref : null;
    },
    async find(name) {
      return existsSync(at(name)) ? at(name) : null;
    },
    async remove(name) {
      rmSync(at(name), { force: true });
    },
    async close() {},
  };
}

/** Results kept in Redis for 30 days (a study's are imported long before). */
const REDIS_TTL_S = 30 * 24 * 3600;

export function redisStore(connection: QueueConnection): ResultStore {
  const client = new Redis(connection.options as RedisOptions);
  client.on('error', () => undefined); // reconnects on its own; commands wait for it
  const key = (name: string): string => `grokscope:results:${name}`;
  return {
    async put(name, local) {
      await client.set(key(name), readFileSync(local), 'EX', REDIS_TTL_S);
      return `redis:${name}`;
    },
    async fetch(ref, scratch) {
      if (!ref.startsWith('redis:')) return null;
      const name = ref.slice('redis:'.length);
      const bytes = await client.getBuffer(key(name));
      if (!bytes) return null;
      const out = path.join(scratch, `${Date.now()}-${Math.random().toString(36).slice(2)}-${path.posix.basename(name)}`);
      writeFileSync(out, bytes);
      return out;
    },
    async find(name) {
      return (await client.exists(key(name))) ? `redis:${name}` : null;
    },
    async remove(name) {
      await client.del(key(name));
    },
    async close() {
      client.disconnect();
    },
  };
}
