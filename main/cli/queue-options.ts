import path from 'node:path';
import { QueueUrlError, checkQueueReachable, parseQueueUrl, type QueueConnection } from '../../core/queue/connection.js';
import { folderStore, redisStore, type ResultStore } from '../../core/queue/result-store.js';
import { UserError } from './errors.js';

/**
 * --queue URL and --results DIR, checked before anything starts: the URL parses and Redis answers
 * (with the password given). Without --results, saved runs travel through Redis itself.
 */
export async function queueOptions(url: string, results: string | undefined): Promise<{ connection: QueueConnection; store: ResultStore; where: string }> {
  let connection: QueueConnection;
  try {
    connection = parseQueueUrl(url);
    await checkQueueReachable(connection);
  } catch (err) {
    throw err instanceof QueueUrlError ? new UserError(err.message) : err;
  }
  if (results === undefined) return { connection, store: redisStore(connection), where: 'results through Redis' };
  const dir = path.resolve(results);
  return { connection, store: folderStore(dir), where: `results in ${dir}` };
}
