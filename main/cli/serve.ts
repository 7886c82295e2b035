import path from 'node:path';
import { usableLibraryDir } from '../../core/library/paths.js';
import { Library } from '../../core/library/library.js';
import { GrokscopeService } from '../../core/service/service.js';
import { createTrainingPool, defaultWorkerCount } from '../../core/runs/pool.js';
import { packageRoot } from '../../core/versions.js';
import { serve } from '../server/serve.js';
import { UserError } from './errors.js';

export async function cmdServe(opts: { library?: string; port?: string; workers?: string }): Promise<number> {
  const port = opts.port === undefined ? 0 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port expects 0–65535 (got '${opts.port}')`);
  const workers = opts.workers === undefined ? defaultWorkerCount() : Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`--workers expects a positive integer (got '${opts.workers}')`);
  const libraryDir = usableLibraryDir(opts.library);
  // Opened once before anything listens: a library it cannot open (no permission on its file, a
  // damaged or newer database) is refused here in one line, not reported later inside the page.
  await Library.with(libraryDir, async () => undefined);
  const pool = createTrainingPool(workers);
  const service = new GrokscopeService(libraryDir, pool);
  const staticDir = path.join(packageRoot() ?? process.cwd(), 'dist', 'renderer');
  let server;
  try {
    server = await serve({ service, staticDir, port });
  } catch (err) {
    await pool.destroy();
    const msg = (err as Error).message;
    throw new UserError(/EADDRINUSE/.test(msg) ? `port ${port} is in use` : msg);
  }
  process.stderr.write(`grokscope serve: library ${libraryDir}, ${workers} worker(s); Ctrl-C to stop\n`);
  process.stdout.write(`${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await pool.destroy();
  return 0;
}
