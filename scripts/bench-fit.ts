/**
 * `npm run bench:fit [-- --runs N]`: time of one power-law fit (four starting exponents, as the
 * study and the live forecast run it) with our Levenberg–Marquardt (core/analysis/power-law-lm.ts)
 * and with ml-levenberg-marquardt (the tests' reference, test/helpers/reference-fit.ts), on
 * planted noisy pairs; median of N (default 3), and the ratio of the two sums of squares.
 */
import os from 'node:os';
import { fitPowerLaw, powerLaw } from '../core/analysis/forecast.js';
import { Rng } from '../core/rng.js';
import { referenceFit } from '../test/helpers/reference-fit.js';
import { numberArg } from './args.js';

const reps = numberArg('runs', 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rng = new Rng(3);
const rows: string[] = [];
for (const n of [500, 2000, 8000]) {
  const pairs = Array.from({ length: n }, () => {
    const g = 0.002 + 0.3 * rng.uniform();
    return { g, dt: powerLaw({ C1: 20000, gamma: 1.65, C2: 300 }, g) * (1 + 0.2 * rng.normal()) };
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  let sse = [0, 0];
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    const f = fitPowerLaw(pairs)!;
    ours.push(performance.now() - t);
    t = performance.now();
    const ref = referenceFit(pairs)!;
    theirs.push(performance.now() - t);
    sse = [pairs.reduce((s, p) => s + (p.dt - powerLaw(f, p.g)) ** 2, 0), ref.sse];
  }
  rows.push(`| ${n} | ${median(ours).toFixed(1)} | ${median(theirs).toFixed(1)} | ${(sse[0] / sse[1]).toFixed(9)} |`);
}
process.stdout.write(
  [
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}; median of ${reps}`,
    '| pairs | ours ms | ml-levenberg-marquardt ms | SSE ours / theirs |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n') + '\n',
);
