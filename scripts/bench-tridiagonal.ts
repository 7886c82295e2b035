/**
 * `npm run bench:tridiagonal [-- --widths 128,512] [--batches 1,8,120] [--runs 5]`: the WGSL
 * evaluator's tridiagonal reduction timed on this machine's WebGPU adapter (scripts/gpu-tridiagonal-lib.ts);
 * one JSON line per width and batch. On a software adapter the figures are the CPU's.
 */
import { tridiagonalTimes } from './gpu-tridiagonal-lib.js';
import { listArg, numberArg } from './args.js';

const rows = await tridiagonalTimes(listArg('widths', '128,512').map(Number), listArg('batches', '1,8,120').map(Number), numberArg('runs', 5));
for (const r of rows) console.log(JSON.stringify(r));
process.exit(0);
