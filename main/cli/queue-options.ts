import path from 'node:path';
import { QueueUrlError, checkQueueReachable, parseQueueUrl, type QueueConnection } from '../../core/queue/connection.js';
import { UserError } from './errors.js';

/** --queue URL with its --results folder, checked before anything starts. */
export async function queueOptions(url: string, results: string | undefined): Promise<{ connection: QueueConnection; resultsDir: string }> {
  if (!results) throw new UserError('--queue needs --results DIR: the folder the workers and this machine share, where finished runs arrive');
  try {
    const connection = parseQueueUrl(url);
    await checkQueueReachable(connection);
    return { connection, resultsDir: path.resolve(results) };
  } catch (err) {
    throw err instanceof QueueUrlError ? new UserError(err.message) : err;
  }
}
