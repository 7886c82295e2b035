import { QueueUrlError, type QueueConnection } from '../../core/queue/connection.js';
import { openQueue } from '../../core/queue/open.js';
import type { ResultStore } from '../../core/queue/result-store.js';
import { UserError } from './errors.js';

/** --queue URL and --results DIR (optional: through Redis), checked before anything starts. */
export async function queueOptions(url: string, results: string | undefined): Promise<{ connection: QueueConnection; store: ResultStore; where: string }> {
  try {
    return await openQueue(url, results);
  } catch (err) {
    throw err instanceof QueueUrlError ? new UserError(err.message) : err;
  }
}
