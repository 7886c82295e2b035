/**
 * The child process of `auto`'s speed measurement (backend-speed.ts): loads one backend, builds the
 * engine a run group of this shape would train on there (the group's size on device backends; one
 * run on CPU ones, whose members run one after another anyway) and times steps ended by a read.
 * Prints one JSON line: { msPerRunStep } or { error }.
 */
import type { RunConfig } from '../schema/run-config.js';
import { selectBackend } from './backend.js';
import { createGroupEngine } from './group-engine.js';
import { firstLine } from '../errors.js';

const { config, group } = JSON.parse(process.argv[2] ?? '{}') as { config: RunConfig; group: number };
try {
  const info = await selectBackend(config.backend);
  const size = info.name === 'webgpu' || info.name === 'tensorflow' ? Math.max(1, group) : 1;
  const engine = await createGroupEngine(Array.from({ length: size }, (_, seed) => ({ config: { ...config, seed } })), info.name);
  for (let i = 0; i < 2; i++) await engine.trainStep();
  await engine.takeNorms(0);
  let steps = 0;
  const t0 = performance.now();
  // Blocks of 8 steps ended by a read (queued device work is done when it answers), for at least
  // 1.5 s or 40 steps, whichever comes first after the first block.
  while (steps < 8 || (performance.now() - t0 < 1500 && steps < 40)) {
    for (let i = 0; i < 8; i++) await engine.trainStep();
    await engine.takeNorms(0);
    steps += 8;
  }
  const ms = (performance.now() - t0) / (steps * size);
  engine.dispose();
  process.stdout.write(`${JSON.stringify({ msPerRunStep: ms })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: firstLine(err) })}\n`);
}
process.exit(0);
