import type { Command } from 'commander';
import { resolveLibraryDir, usableLibraryDir } from '../../core/library/paths.js';
import { firstLine } from '../../core/errors.js';
import { createTrainingPool } from '../../core/runs/pool.js';
import { GrokscopeService } from '../../core/service/service.js';

/**
 * What every command shares: its common options, the one-JSON-value output, and a service over
 * the library (with a pool of `workers` training workers, or none).
 *
 * The CLI's run, list, show and export-csv go through GrokscopeService like the other hosts, so the
 * live events, metric points and CSV columns are the ones the workbench shows. bench times the
 * worker directly (nothing of the contract is in it); study, export, import and reproduce call the
 * core functions the service calls, for what the contract does not carry (docs/decisions.md).
 */
export interface CommonOpts {
  library?: string;
  json?: boolean;
  debug?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export async function withService<T>(opts: CommonOpts, workers: number, fn: (service: GrokscopeService) => Promise<T>): Promise<T> {
  const pool = workers > 0 ? createTrainingPool(workers) : null;
  try {
    return await fn(new GrokscopeService(resolveLibraryDir(opts.library), pool));
  } finally {
    await pool?.destroy();
  }
}

/** Commands that never open the library (bench times workers; measure reads one model file). */
const NO_LIBRARY = new Set(['bench', 'measure']);

/**
 * Every other command checks its library folder before it starts workers or opens the database:
 * one that cannot be created, read or written is refused in one line, at once, with exit 1
 * (core/library/paths.ts, usableLibraryDir) — not a spin, a stack trace or a late failure.
 */
export function refuseUnusableLibrary(program: Command): void {
  program.hook('preAction', (_program, action) => {
    if (NO_LIBRARY.has(action.name())) return;
    try {
      usableLibraryDir((action.opts() as CommonOpts).library);
    } catch (err) {
      program.error(`grokscope: ${firstLine(err)}`, { exitCode: 1 });
    }
  });
}
