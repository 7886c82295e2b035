/**
 * Fuzz the importer: mutate valid saved runs and bundles N times (default 1,000 each) and check
 * that every import either fails with one line naming the file, leaving the library untouched,
 * or imports the very same run. Prints a tally; exits 1 on any violation.
 *   npm run fuzz:import -- [cases] [seed]
 */
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../core/library/library.js';
import { exportRuns, importSourcesInto } from '../core/library/transfer.js';
import { makeFixtureRun } from '../test/helpers/fixture-run.js';
import { mutateBytes } from '../test/helpers/mutate.js';
import { tempDir } from '../test/helpers/tmp.js';

const cases = Number(process.argv[2] ?? 1000);
let seed = Number(process.argv[3] ?? 2026) >>> 0;
const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

const work = tempDir('grokscope-fuzz-');
let violations = 0;
try {
  const src = path.join(work.dir, 'src');
  const dst = path.join(work.dir, 'dst');
  const mix = await makeFixtureRun(src, { id: 'fuzz-mix', config: { condition: 'mix' } });
  const nm = await makeFixtureRun(src, { id: 'fuzz-nm', salt: 1, config: { condition: 'norm-matched', normTargetRun: mix } });
  const runFile = path.join(work.dir, 'good.grokrun');
  const bundleFile = path.join(work.dir, 'good.grokbundle');
  await exportRuns(src, [mix], runFile);
  await exportRuns(src, [nm], bundleFile);
  await makeFixtureRun(dst, { id: 'bystander', salt: 3 });
  const started = Date.now();
  await Library.with(dst, async (lib) => {
    for (const [good, ext] of [
      [readFileSync(runFile), 'grokrun'],
      [readFileSync(bundleFile), 'grokbundle'],
    ] as const) {
      const tally = { refused: 0, imported: 0, unchanged: 0 };
      const reasons = new Map<string, number>();
      const target = path.join(work.dir, `fuzzed.${ext}`);
      for (let i = 0; i < cases; i++) {
        writeFileSync(target, mutateBytes(good, rand));
        const before = JSON.stringify(await lib.tableCounts());
        const [rep] = await importSourcesInto(lib, [target]);
        if (!rep.ok) {
          tally.refused++;
          const reason = rep.error.replace(/^[^:]+: /, '').replace(/'[^']*'|\d+/g, '…').slice(0, 60);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
          const after = JSON.stringify(await lib.tableCounts());
          if (!rep.error.startsWith(`fuzzed.${ext}: `) || rep.error.includes('\n') || after !== before) {
            violations++;
            console.error(`VIOLATION case ${i}: ${rep.error} (library ${before} → ${after})`);
          }
          continue;
        }
        for (const o of rep.outcomes) {
          tally[o.action === 'unchanged' ? 'unchanged' : 'imported']++;
          // Accepted damage must have touched nothing we read: a changed run would come in renamed.
          if (o.action === 'renamed') {
            violations++;
            console.error(`VIOLATION case ${i}: a damaged file imported as a different run ${o.id}`);
          }
        }
      }
      console.log(`${ext}: ${cases} mutated files: ${tally.refused} refused, ${tally.imported} imported, ${tally.unchanged} recognised as already imported`);
      for (const [r, n] of [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${n}× ${r}`);
    }
  });
  console.log(`${violations} violations; ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  work.cleanup();
}
process.exit(violations ? 1 : 0);
