import path from 'node:path';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { checkLibrary, rebuildLibrary, savedRunsDir } from '../../core/library/archive.js';
import { printJson, type CommonOpts } from './common.js';
import { UserError } from './errors.js';
import { firstLine } from '../../core/errors.js';

/** `grokscope library check`: every table read whole, every saved run's digests verified. Exit 1 on any problem. */
export async function cmdLibraryCheck(opts: CommonOpts): Promise<number> {
  const dir = resolveLibraryDir(opts.library);
  const c = await checkLibrary(dir);
  if (opts.json) printJson(c);
  else {
    const d = c.database;
    process.stdout.write(
      d.ok
        ? `database ${d.file}: ok (${Object.values(d.rows ?? {}).reduce((a, b) => a + b, 0)} rows in ${Object.keys(d.rows ?? {}).length} tables)\n`
        : `database ${d.file}: ${d.error}\n`,
    );
    const s = c.savedRuns;
    process.stdout.write(`saved runs ${s.dir}: ${s.checked} checked, ${s.damaged.length} damaged${d.ok ? `, ${s.missing.length} completed run(s) without one` : ''}\n`);
    for (const x of s.damaged) process.stdout.write(`  damaged: ${path.basename(x.file)}: ${x.error}\n`);
    for (const id of s.missing) process.stdout.write(`  missing: ${id} (export it again: grokscope export ${id} -o ${path.join(s.dir, `${id}.grokrun`)})\n`);
    if (!d.ok && s.checked > 0) process.stdout.write(`to rebuild the database from the saved runs: grokscope library rebuild --library ${dir}\n`);
  }
  return c.ok ? 0 : 1;
}

/** `grokscope library rebuild [--from DIR]`: a new database from saved runs; the old one is set aside. */
export async function cmdLibraryRebuild(opts: CommonOpts & { from?: string }): Promise<number> {
  const dir = resolveLibraryDir(opts.library);
  const from = opts.from ? path.resolve(opts.from) : savedRunsDir(dir);
  let r;
  try {
    r = await rebuildLibrary(dir, from);
  } catch (err) {
    throw new UserError(firstLine(err));
  }
  if (opts.json) printJson(r);
  else {
    if (r.setAside) process.stdout.write(`the old database is kept as ${r.setAside}\n`);
    process.stdout.write(`rebuilt ${dir} from ${from}: ${r.imported.length} run(s) imported, ${r.failed.length} file(s) refused\n`);
    for (const f of r.failed) process.stdout.write(`  refused: ${f.error}\n`);
  }
  return r.failed.length ? 1 : 0;
}
