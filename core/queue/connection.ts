import type { ConnectionOptions } from 'bullmq';
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
