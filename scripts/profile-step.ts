/**
 * Kernel profile of one training step (tf.profile): kernel counts and time per kernel type.
 * Usage: npx tsx scripts/profile-step.ts [backend=wasm] [preset=quick] [arch=transformer]
 */
import * as tf from '@tensorflow/tfjs-core';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
await selectBackend((process.argv[2] ?? 'wasm') as any);
const preset = (process.argv[3] ?? 'quick') as 'quick';
const config = parseRunConfig({ ...PRESETS[preset], arch: process.argv[4] ?? 'transformer' });
const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: 0 });
const t = new Trainer(config, ds);
await t.trainStep(); await t.trainStep();
const prof = await tf.profile(async () => { await t.trainStep(); });
const byKernel = new Map<string, {n:number, ms:number}>();
let total = 0;
for (const k of prof.kernels) { const e = byKernel.get(k.name) ?? {n:0, ms:0}; e.n++; e.ms += (k.kernelTimeMs as number) || 0; total += (k.kernelTimeMs as number)||0; byKernel.set(k.name, e); }
console.log('kernels', prof.kernels.length, 'sum kernel ms', total.toFixed(1));
console.log([...byKernel.entries()].sort((a,b)=>b[1].ms-a[1].ms).slice(0,12).map(([k,v])=>`${k} n=${v.n} ${v.ms.toFixed(1)}ms`).join('\n'));
const t0 = performance.now(); for (let i=0;i<10;i++) await t.trainStep(); console.log('step ms', (performance.now()-t0)/10);
const t1 = performance.now(); await t.evaluate(false); console.log('eval ms', performance.now()-t1);
