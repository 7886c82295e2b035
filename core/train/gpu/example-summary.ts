/// <reference types="@webgpu/types" />
import type { Dataset } from '../../tasks/dataset.js';
import { quantileRanks, quantilesFromOrderStatistics, type ExampleSummary } from '../eval/examples.js';
import { bindings } from './kernels.js';
import type { Dispatch, Recorder } from './program.js';
import type { ReadRegion } from './device.js';

/**
 * The per-example numbers of a WGSL evaluation reduced on the device (issue 36: at the reference
 * preset they were 188 KB of every run-evaluation's read). One workgroup per run sums the losses
 * and correct answers over its training and test pairs and the logit statistics, and selects the
 * exact order statistics the log-probability quantiles interpolate between, so the host reads
 * SUMS + 2·|quantiles| numbers a run and finishes with the same formulas as the other engines
 * (eval/examples.ts).
 *
 * The order statistics are exact, not approximate: a radix select over the 32 bits of each
 * −loss's order-preserving key, one bit a round, every rank at once — each round counts, over all
 * examples, those that share the rank's prefix and have a 0 at the bit. 32 rounds of N/256 reads a
 * thread; no sort, no second dispatch.
 */
const SUMS = 7; // train loss, test loss, train correct, test correct, Σ std, Σ max-prob, train margin

function summaryKernel(ranks: number[]): string {
  const R = ranks.length;
  return /* wgsl */ `
struct U { n: u32, c0: u32, p0: u32, p1: u32 }
${bindings([['stats', 'r'], ['split', 'r u32'], ['out', 'rw'], ['u', 'U']])}
const R = ${R}u;
const W = ${SUMS + R}u;
var<workgroup> part: array<f32, ${256 * SUMS}>;
var<workgroup> counts: array<atomic<u32>, ${R}>;

/** −loss as a u32 whose unsigned order is the float's order (NaN above everything, as a host sort puts it last). */
fn key(i: u32, base: u32) -> u32 {
  let b = bitcast<u32>(-stats[base + i]);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0xffffffffu; }
  return select(b | 0x80000000u, ~b, (b >> 31u) == 1u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let s = wg.x;
  let n = u.n;
  let base = s * 5u * n;
  let sp = (u.c0 + s) * n;
  var acc: array<f32, ${SUMS}>;
  for (var i = t; i < n; i += 256u) {
    let place = split[sp + i];
    let tr = select(0.0, 1.0, place == 1u);
    let te = select(0.0, 1.0, place == 2u);
    let loss = stats[base + i];
    let ok = stats[base + n + i];
    acc[0] += tr * loss;
    acc[1] += te * loss;
    acc[2] += tr * ok;
    acc[3] += te * ok;
    acc[4] += stats[base + 2u * n + i];
    acc[5] += stats[base + 3u * n + i];
    acc[6] += tr * stats[base + 4u * n + i];
  }
  for (var k = 0u; k < ${SUMS}u; k++) { part[k * 256u + t] = acc[k]; }
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (t < half) {
      for (var k = 0u; k < ${SUMS}u; k++) { part[k * 256u + t] += part[k * 256u + t + half]; }
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    for (var k = 0u; k < ${SUMS}u; k++) { out[s * W + k] = part[k * 256u]; }
  }
  // Radix select: rank[r] counts down as bits are fixed, pre[r] is the prefix found so far.
  var rank = array<u32, ${R}>(${ranks.map((r) => `${r}u`).join(', ')});
  var pre: array<u32, ${R}>;
  for (var r = 0u; r < R; r++) { pre[r] = 0u; }
  for (var bit = 31i; bit >= 0i; bit--) {
    if (t < R) { atomicStore(&counts[t], 0u); }
    workgroupBarrier();
    let b = u32(bit);
    let high = ~((2u << b) - 1u);
    var c: array<u32, ${R}>;
    // Zeroed by hand: on llvmpipe a var declared in a loop kept the previous round's counts.
    for (var r = 0u; r < R; r++) { c[r] = 0u; }
    for (var i = t; i < n; i += 256u) {
      let k = key(i, base);
      if (((k >> b) & 1u) == 0u) {
        for (var r = 0u; r < R; r++) { c[r] += select(0u, 1u, (k & high) == pre[r]); }
      }
    }
    for (var r = 0u; r < R; r++) { if (c[r] > 0u) { atomicAdd(&counts[r], c[r]); } }
    workgroupBarrier();
    for (var r = 0u; r < R; r++) {
      let zeros = atomicLoad(&counts[r]);
      if (rank[r] >= zeros) {
        rank[r] -= zeros;
        pre[r] |= 1u << b;
      }
    }
    workgroupBarrier();
  }
  if (t < R) {
    let k = pre[t];
    out[s * W + ${SUMS}u + t] = bitcast<f32>(select(~k, k ^ 0x80000000u, (k >> 31u) == 1u));
  }
}`;
}

export class GpuExampleSummary {
  private readonly n: number;
  private readonly width: number;
  /** Each run's split over the pairs (1: training, 2: test, 0: neither); the progress measures' tail reads it too. */
  readonly split: GPUBuffer;
  private readonly out: GPUBuffer;
  private readonly source: string;
  private readonly entries = new Map<string, Dispatch>();

  constructor(
    private readonly rec: Recorder,
    private readonly datasets: Dataset[],
    chunk: number,
    /** The evaluator's per-example numbers: per run loss, correct, std, max-prob, margin (each n). */
    private readonly stats: GPUBuffer,
  ) {
    const n = datasets[0].labels.length;
    this.n = n;
    const ranks = quantileRanks(n).flatMap(({ lo, hi }) => [lo, hi]);
    this.width = SUMS + ranks.length;
    this.source = summaryKernel(ranks);
    const split = new Uint32Array(datasets.length * n);
    datasets.forEach((d, s) => {
      d.trainIndices.forEach((i) => (split[s * n + i] = 1));
      d.testIndices.forEach((i) => (split[s * n + i] = 2));
    });
    this.split = rec.buffer(split.length, 'train and test pairs of each run', split);
    this.out = rec.buffer(chunk * this.width, 'per-example summaries');
  }

  /** The dispatch summarising runs c0 … c0 + runs − 1 (after the per-example numbers). */
  entry(c0: number, runs: number): Dispatch {
    const key = `${c0}:${runs}`;
    let e = this.entries.get(key);
    if (!e) {
      e = this.rec.dispatch(this.source, 'evaluation: per-example summary', [this.stats, this.split, this.out, this.rec.quad([this.n, c0], 'summary')], [runs, 1, 1]);
      this.entries.set(key, e);
    }
    return e;
  }

  region(runs: number): ReadRegion {
    return { buffer: this.out, offset: 0, length: runs * this.width };
  }

  /** Run i's summary from the read region (s: its place in the range). */
  summary(values: Float32Array, s: number, i: number): ExampleSummary {
    const v = values.subarray(s * this.width, (s + 1) * this.width);
    const ds = this.datasets[i];
    const train = ds.trainIndices.length;
    const test = ds.testIndices.length;
    const mean = (x: number, count: number) => (count ? x / count : NaN);
    return {
      train_loss: mean(v[0], train),
      test_loss: mean(v[1], test),
      train_acc: mean(v[2], train),
      test_acc: mean(v[3], test),
      logprob_quantiles: quantilesFromOrderStatistics(this.n, v.subarray(SUMS)),
      logits: { scale: v[4] / this.n, max_softmax: v[5] / this.n, train_margin: mean(v[6], train) },
    };
  }
}
