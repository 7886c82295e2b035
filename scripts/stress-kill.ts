/**
 * `npm run stress:kill [-- --kills 20 --seed 1 --max-ms T]`: the study of test/kill.test.ts,
 * killed with SIGKILL at `kills` random moments (uniform in 0…max-ms after each start — by
 * default a third of the time the uninterrupted study took — from a seeded generator, so a failing sequence can be replayed), then run to its end and compared
 * with the same study run without interruption: every planned run exactly once, completed, with
 * identical metrics, events and per-step norms. Needs `npm run build:node` first. Prints each
 * kill's moment and the outcome; exit 1 on any difference.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../core/rng.js';
import { scratchDir } from '../core/library/saved-run.js';
import { Library } from '../core/library/library.js';
import { root } from '../test/helpers/cli.js';
import { differences, killSpec, studyKilled } from '../test/helpers/kill.js';
import { numberArg } from './args.js';

const kills = numberArg('kills', 20);
const seed = numberArg('seed', 1);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const bin = path.join(root, 'bin', 'grokscope.js');
const scratch = scratchDir('stress-kill');
const specFile = path.join(scratch.dir, 'spec.json');
// Longer than the test's study, so that 20 kills land before it is done.
writeFileSync(specFile, JSON.stringify({ ...killSpec, overrides: { ...killSpec.overrides, steps: 600 } }));
const study = (library: string): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, [bin, 'study', specFile, '--library', library, '--workers', '2', '--out', path.join(scratch.dir, 'out')], { encoding: 'utf8' });

const t0 = Date.now();
const reference = path.join(scratch.dir, 'reference');
log('the study without interruption…');
const tRef = Date.now();
if (study(reference).status !== 0) throw new Error('the reference study failed');
const tookMs = Date.now() - tRef;
// A third of its time: with the start-up (~2.5 s here) every invocation pays, the 20 kills then
// leave the study part-way done, so they fall in every phase, and the last invocation finishes it.
const maxMs = numberArg('max-ms', Math.round(tookMs / 3));
log(`  took ${tookMs} ms`);
const killed = path.join(scratch.dir, 'killed');
const rng = new Rng(seed, 0);
let landed = 0;
for (let k = 0; k < kills; k++) {
  const ms = Math.round(rng.uniform() * maxMs);
  const hit = await studyKilled(specFile, killed, { afterMs: ms }, path.join(scratch.dir, 'out'));
  landed += hit ? 1 : 0;
  const state = await Library.with(killed, async (lib) => {
    const runs = await lib.listRunsDetailed();
    return `${runs.filter((r) => r.status === 'completed').length} of 6 runs completed, ${runs.reduce((s, r) => s + r.stepsDone, 0)} steps stored`;
  }).catch((err: unknown) => `library not readable: ${String(err)}`);
  log(`kill ${k + 1}: ${ms} ms after start${hit ? '' : ' (the study had finished)'}; ${state}`);
}
const last = study(killed);
const diffs = last.status === 0 ? await differences(reference, killed, 'killed') : [`the final invocation failed: ${String(last.stderr)}`];
log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
log(`${landed} of ${kills} kills landed before the study finished (seed ${seed}, moments uniform in 0–${maxMs} ms)`);
log(diffs.length ? `DIFFERENCES:\n${diffs.join('\n')}` : 'the resumed study equals the uninterrupted one: every run once, completed, identical metrics, events and per-step norms');
scratch.cleanup();
process.exit(diffs.length ? 1 : 0);
