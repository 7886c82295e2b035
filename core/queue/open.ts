import path from 'node:path';
import { checkQueueReachable, parseQueueUrl, type QueueConnection } from './connection.js';
import { folderStore, redisStore, type ResultStore } from './result-store.js';

/**
 * A queue as the CLI and the workbench give it: the URL checked and Redis asked for a PONG first
 * (QueueUrlError, one line, otherwise), and where results travel — the shared folder, or Redis.
 */
export async function openQueue(url: string, results?: string): Promise<{ connection: QueueConnection; store: ResultStore; where: string }> {
  const connection = parseQueueUrl(url);
  await checkQueueReachable(connection);
  if (results === undefined) return { connection, store: redisStore(connection), where: 'results through Redis' };
  const dir = path.resolve(results);
  return { connection, store: folderStore(dir), where: `results in ${dir}` };
}
