/**
 * The child process of a study estimate's short measured run (shape-rate.ts): one run of the
 * shape on the backend its config names, built as training builds it (createGroupEngine), timed
 * for a few dozen steps and, where the time allows, one evaluation. A child, so that the host's
 * event loop (the UI's server) never waits on tfjs and a backend that crashes costs only the child.
 * Prints one JSON line: { backend, steps, msPerStep, msPerEval } or { error }.
 */
import type { RunConfig } from '../schema/run-config.js';
import { selectBackend } from '../train/backend.js';
import { createGroupEngine } from '../train/group-engine.js';
import { firstLine } from '../errors.js';

/** Steps are timed for this long (at least 8, at most 40). */
const STEP_MS = 400;
const MAX_STEPS = 40;
/**
 * Evaluations are timed only for shapes whose steps take less than this: there an evaluation costs
 * ten steps or more (the evaluation's spectra dominate), and timing it costs little. A larger shape's
 * first evaluation alone takes a second or more (its set-up), and its evaluation is worth only a
 * few steps per evaluation interval: left out (the estimate says so).
 */
const EVAL_IF_STEP_MS = 20;

const { config } = JSON.parse(process.argv[2] ?? '{}') as { config: RunConfig };
try {
  const info = await selectBackend(config.backend);
  const engine = await createGroupEngine([{ config }], info.name);
  // Two untimed steps: the first compiles and allocates.
  for (let i = 0; i < 2; i++) await engine.trainStep();
  await engine.takeNorms(0);
  let steps = 0;
  const t0 = performance.now();
  // Blocks of 4 steps ended by a read, so that queued device work is done when the clock stops.
  while (steps < 8 || (performance.now() - t0 < STEP_MS && steps < MAX_STEPS)) {
    for (let i = 0; i < 4; i++) await engine.trainStep();
    await engine.takeNorms(0);
    steps += 4;
  }
  const msPerStep = (performance.now() - t0) / steps;
  // The first evaluation pays for its own set-up (several times a later one's cost): only a second one is timed.
  let msPerEval: number | null = null;
  if (msPerStep < EVAL_IF_STEP_MS) {
    await engine.evaluate([0], false);
    const e0 = performance.now();
    await engine.evaluate([0], false);
    msPerEval = performance.now() - e0;
  }
  engine.dispose();
  process.stdout.write(`${JSON.stringify({ backend: info.name, steps, msPerStep, msPerEval })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: firstLine(err) })}\n`);
}
process.exit(0);
