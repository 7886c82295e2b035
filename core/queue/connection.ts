import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { GrokscopeError } from '../errors.js';

/**
 * A `redis://[:PASSWORD@]HOST:PORT/DB` URL (or `rediss://` for TLS) as BullMQ connection options,
 * checked here so that a typo is one line, not a reconnect loop. `maxRetriesPerRequest: null` is
 * what BullMQ requires of a worker's connection (its blocking commands must not time out), and
 * commands wait for a Redis that restarts instead of failing.
 */
export class QueueUrlError extends GrokscopeError {}

export interface QueueConnection {
  options: ConnectionOptions;
  /** The URL without its password, for messages and logs. */
  display: string;
}

export function parseQueueUrl(raw: string): QueueConnection {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new QueueUrlError(`--queue ${JSON.stringify(raw)} is not a URL: expected redis://[:PASSWORD@]HOST:PORT/DB`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new QueueUrlError(`--queue must be a redis:// or rediss:// URL (got ${url.protocol}//…)`);
  if (!url.hostname) throw new QueueUrlError('--queue names no host: expected redis://[:PASSWORD@]HOST:PORT/DB');
  const port = url.port ? Number(url.port) : 6379;
  const dbPath = url.pathname.replace(/^\//, '');
  if (dbPath !== '' && !/^\d+$/.test(dbPath)) throw new QueueUrlError(`--queue database must be a number (got /${dbPath})`);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const display = `${url.protocol}//${password ? (username ? `${username}:***@` : ':***@') : ''}${url.hostname}:${port}/${dbPath || '0'}`;
  return {
    options: {
      host: url.hostname,
      port,
      db: dbPath ? Number(dbPath) : 0,
      ...(password ? { password } : {}),
      ...(username ? { username } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      maxRetriesPerRequest: null,
    },
    display,
  };
}

/**
 * Ask the queue's Redis for a PONG before anything starts: BullMQ's connections wait for Redis
 * forever (so that a restart loses nothing), which would make a wrong host or password hang
 * instead of failing. One line on failure: unreachable, refused, or the password was wrong.
 */
export async function checkQueueReachable(c: QueueConnection, timeoutMs = 5000): Promise<void> {
  const client = new Redis({ ...(c.options as RedisOptions), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis reports the cause (a refused password) as an 'error' event and the failed connect as
  // "Connection is closed": keep the cause, report it once below.
  let cause: string | null = null;
  client.on('error', (err: Error) => (cause ??= err.message));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const message = cause ?? (err instanceof Error ? err.message : String(err));
    throw new QueueUrlError(`cannot use the queue at ${c.display}: ${/NOAUTH|WRONGPASS|invalid password/i.test(message) ? 'Redis refused the password (give it as redis://:PASSWORD@HOST:PORT/DB)' : message.split('\n')[0]}`);
  } finally {
    client.disconnect();
  }
}
