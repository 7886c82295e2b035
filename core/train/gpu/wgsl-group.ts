/// <reference types="@webgpu/types" />
import type { RunConfig } from '../../schema/run-config.js';
import type { EvalRecord } from '../../schema/eval-record.js';
import { makeDataset, type Dataset } from '../../tasks/dataset.js';
import type { HostParams } from '../../models/init.js';
import { paramShapes } from '../../models/config.js';
import { LockstepMembers, recordsUpdateGap, type GroupEngine, type GroupMember } from '../engine.js';
import { modelConfigOf, type TrainState } from '../trainer.js';
import { randomOrthogonal } from '../interventions.js';
import type { LogitTargets } from '../logit-temperature.js';
import { checkTargets, hostSetup, RingSteps, trainingData, wgslRefusal } from './group-data.js';
import { UPDATE_WINDOW } from '../../schema/eval-record.js';
import { gpuContext, readRegions, withErrorScopes, type GpuContext, type GpuCounters, type ReadRegion } from './device.js';
import { encode, Recorder, type Entry } from './program.js';
import { activations, backwardEntries, forwardEntries, layoutOf, lossEntry, type Activations, type ModelLayout } from './plans.js';
import { stepUniform } from './update-kernels.js';
import { GpuEvaluator } from './evaluator.js';
import { eigenvaluesHere } from '../eval/eigen.js';
import { partsOf, updateEntries } from './update.js';

/**
 * The WGSL engine (docs/backends.md, "The WGSL engine"): a run group's whole training step — forward,
 * loss, backward, AdamW with decoupled decay, the per-step ‖θ‖, the norm-matched rescale, the
 * orthogonal mix, the entropy penalty, fixed and logit-matched temperatures — as our own compute kernels on one Dawn device, the run index a dispatch
 * dimension. Parameters, moments and gradients of all S runs live in flat storage buffers;
 * pipelines, buffers and bind groups are made once per group; a step replays a recorded list of
 * dispatches (about 30) in one compute pass, several steps go in one queue submit, and nothing is
 * read back between evaluations except when the per-step norm history fills. A frozen run is
 * masked in the update kernels (no AdamW step, no decay, no norm). Precision: float32 throughout,
 * like the tfjs engines; test/wgsl-group.test.ts holds it to the host engine within 1e-4.
 */
export const STEPS_PER_SUBMIT = 8;

export class WgslGroup implements GroupEngine {
  readonly engine = 'WGSL: our own kernels, one computation for the whole group';
  readonly namesEngine = true;
  readonly size: number;
  private readonly configs: RunConfig[];
  private readonly datasets: Dataset[];
  private readonly layout: ModelLayout;
  private readonly rec: Recorder;
  private readonly buf: Record<string, GPUBuffer>;
  private readonly train: Activations;
  private readonly stepEntries: Entry[];
  private readonly forwardOnly: Entry[];
  private readonly slotUniforms: GPUBuffer[];
  private readonly evaluator: GpuEvaluator;
  /** The shared step, who is frozen, and the per-step norms handed out per member (engine.ts). */
  private readonly book: LockstepMembers;
  private readonly hyper: Float32Array;
  private readonly mixing: boolean[];
  private readonly histCapacity: number;
  private readonly targetsPerRun: number;
  private readonly normTargets: (Float64Array | undefined)[];
  private readonly logitTargets: (LogitTargets | undefined)[];
  private encoder: GPUCommandEncoder | null = null;
  private pendingSteps = 0;
  private readonly ring: RingSteps;
  /** This group's own counts (the device's counters are per thread). */
  readonly counts: GpuCounters & { steps: number } = { dispatches: 0, submits: 0, reads: 0, steps: 0 };
  private disposed = false;
  private readonly eigenvalues = eigenvaluesHere();

  /** Why these members cannot run on the WGSL engine, or null when they can. */
  static refusal(members: GroupMember[]): string | null {
    return wgslRefusal(members);
  }

  /** The group on the thread's Dawn device (made on first use and kept). */
  static async create(members: GroupMember[], datasets?: Dataset[]): Promise<WgslGroup> {
    const refusal = WgslGroup.refusal(members);
    if (refusal) throw new Error(`cannot run this group on the WGSL engine: ${refusal}`);
    const ctx = await gpuContext();
    if (ctx.lost) throw new Error(ctx.lost);
    // Every pipeline, buffer and bind group is made here: a shader the driver rejects or a
    // binding over a limit fails the group with its message instead of voiding later submits.
    return withErrorScopes(ctx, 'the WGSL engine could not set up this group', () => new WgslGroup(ctx, members, datasets), (g) => g.dispose());
  }

  private constructor(
    private readonly ctx: GpuContext,
    members: GroupMember[],
    datasets?: Dataset[],
  ) {
    this.size = members.length;
    const S = this.size;
    this.configs = members.map((m) => m.config);
    const c0 = this.configs[0];
    this.datasets = this.configs.map((c, i) => datasets?.[i] ?? makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.splitSeed ?? c.seed }));
    const ds0 = this.datasets[0];
    const model = modelConfigOf(c0);
    this.layout = layoutOf(c0.arch, paramShapes(model, ds0.vocab, ds0.classes), { vocab: ds0.vocab, classes: ds0.classes, order: ds0.task.order, eq: ds0.eqToken, d: c0.dModel, heads: c0.nHeads, h: c0.dMlp });
    const l = this.layout;
    const n = ds0.trainIndices.length;
    if (this.datasets.some((ds) => ds.trainIndices.length !== n)) throw new Error('runs of a group need training sets of one size');
    const host = hostSetup(members, l, model, ds0);
    this.book = new LockstepMembers(S, host.step);
    this.mixing = host.mixing;
    this.hyper = host.hyper;
    this.normTargets = host.normTargets;
    this.logitTargets = members.map((m, s) => (host.logitMatched[s] ? m.logitTargets : undefined));
    this.targetsPerRun = host.targetsPerRun;
    this.histCapacity = Math.max(64, c0.evalEvery, c0.checkpointEvery < 4096 ? c0.checkpointEvery : 0) + STEPS_PER_SUBMIT;
    const parts = partsOf(l.P);
    this.rec = new Recorder(ctx);
    const rec = this.rec;
    try {
      const { tok, labels, csr } = trainingData(this.datasets, l.vocab);
      const anyMix = this.mixing.some(Boolean);
      const anyMatched = this.configs.some((c) => c.condition === 'norm-matched');
      this.buf = {
        params: rec.buffer(S * l.P, 'params', host.flat('params')),
        m: rec.buffer(S * l.P, 'adam m', host.flat('m')),
        v: rec.buffer(S * l.P, 'adam v', host.flat('v')),
        grads: rec.buffer(S * l.P, 'grads'),
        hyper: rec.buffer(S * 8, 'hyper', this.hyper),
        targets: rec.buffer(S * this.targetsPerRun, 'norm targets', host.targets),
        factor: rec.buffer(S, 'norm factor'),
        partial: rec.buffer(S * parts, 'norm partials'),
        hist: rec.buffer(S * this.histCapacity, 'norm history'),
        tok: rec.buffer(tok.length, 'tokens', tok),
        labels: rec.buffer(labels.length, 'labels', labels),
        csr: rec.buffer(csr.length, 'token lists', csr),
        spare: rec.buffer(4, 'unused binding'),
        prevParams: rec.buffer(S * l.P, 'parameters before the step', host.flat('params')),
        updateRing: rec.buffer(S * UPDATE_WINDOW * l.P, 'last parameter updates'),
        logitTargets: rec.buffer(host.logitMatched.some(Boolean) ? S * host.scaleSteps : 1, 'logit-matched target scales', host.logitMatched.some(Boolean) ? host.scaleTargets : undefined),
      };
      if (anyMix) this.buf.mixQ = rec.buffer(STEPS_PER_SUBMIT * S * l.d * l.d, 'mix Q');
      this.train = activations(rec, l, S, n, { backward: true, mix: anyMix, penalty: host.penalised.some(Boolean) });
      const inputs = { params: this.buf.params, pBase: 0, tok: this.buf.tok, tokRun: 2 * n, hyper: this.buf.hyper, spare: this.buf.spare };
      const mixQ = anyMix ? { buffer: this.buf.mixQ, slots: STEPS_PER_SUBMIT, groupRuns: S } : undefined;
      const loss = lossEntry(rec, l, this.train, this.buf.labels, this.buf.hyper);
      this.forwardOnly = [...forwardEntries(rec, l, this.train, inputs), loss];
      this.slotUniforms = Array.from({ length: STEPS_PER_SUBMIT }, (_, k) => rec.uniform(new ArrayBuffer(64), `step slot ${k}`));
      this.evaluator = new GpuEvaluator(rec, l, this.buf, S, this.datasets, this.configs, host.logitMatched, host.scaleSteps);
      this.stepEntries = [
        // Logit-matched runs: τ for this step from their logit scale over every pair, first.
        ...(host.logitMatched.some(Boolean) ? this.evaluator.temperatureEntries(this.slotUniforms) : []),
        ...(anyMix ? forwardEntries(rec, l, this.train, { ...inputs, mixQ }) : this.forwardOnly.slice(0, -1)),
        loss,
        ...backwardEntries(rec, l, this.train, { ...inputs, mixQ, grads: this.buf.grads, csr: this.buf.csr }),
        ...updateEntries(rec, this.buf, this.slotUniforms, { P: l.P, runs: S, matched: anyMatched }),
      ];
    } catch (err) {
      this.rec.destroy();
      throw err;
    }
    this.ring = new RingSteps(UPDATE_WINDOW, c0.evalEvery, c0.steps);
  }

  configOf(i: number): RunConfig {
    return this.configs[i];
  }

  stepOf(i: number): number {
    return this.book.stepOf(i);
  }

  active(): number[] {
    return this.book.active();
  }

  private alive(): void {
    if (this.ctx.lost) throw new Error(this.ctx.lost);
    if (this.disposed) throw new Error('the WGSL group was disposed');
  }

  /** Submits the steps encoded so far (one queue submit). */
  private flush(): void {
    if (!this.encoder) return;
    this.ctx.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pendingSteps = 0;
    this.ctx.counters.submits++;
    this.counts.submits++;
  }

  private async read(regions: ReadRegion[]): Promise<Float32Array[]> {
    this.flush();
    this.counts.reads++;
    this.counts.submits++;
    return readRegions(this.ctx, regions);
  }

  freeze(i: number): void {
    if (this.book.frozen[i]) return;
    this.flush(); // steps already encoded still update this run
    this.book.freeze(i);
    this.hyper[i * 8 + 2] = 0;
    this.ctx.device.queue.writeBuffer(this.buf.hyper, (i * 8 + 2) * 4, this.hyper.buffer, (i * 8 + 2) * 4, 4);
  }

  async trainStep(): Promise<void> {
    this.alive();
    if (this.book.pendingSteps >= this.histCapacity) await this.drainNorms();
    const t = this.book.step + 1;
    const c0 = this.configs[0];
    const slot = this.pendingSteps;
    checkTargets(t, this.book.frozen, this.normTargets, this.logitTargets);
    const q = this.ctx.device.queue;
    const record = this.ring.record(t);
    q.writeBuffer(this.slotUniforms[slot], 0, stepUniform({ P: this.layout.P, parts: partsOf(this.layout.P), t, hist: this.book.pendingSteps, H: this.histCapacity, T: this.targetsPerRun, record, W: UPDATE_WINDOW, beta1: c0.beta1, beta2: c0.beta2, eps: c0.eps }));
    if (this.buf.mixQ) {
      const d = this.layout.d;
      this.mixing.forEach((on, s) => {
        if (on && !this.book.frozen[s]) q.writeBuffer(this.buf.mixQ, ((slot * this.size + s) * d * d) * 4, randomOrthogonal(d, this.configs[s].seed, t) as Float32Array<ArrayBuffer>);
      });
    }
    this.encoder ??= this.ctx.device.createCommandEncoder();
    const n = encode(this.ctx, this.encoder, this.stepEntries, slot);
    this.counts.dispatches += n;
    this.counts.steps++;
    this.book.stepped();
    if (++this.pendingSteps === STEPS_PER_SUBMIT) this.flush();
  }

  /** Reads the norm history into the per-run lists (one read). */
  private async drainNorms(): Promise<void> {
    if (!this.book.pendingSteps) return;
    const steps = this.book.detach();
    const [hist] = await this.read([{ buffer: this.buf.hist, offset: 0, length: this.size * this.histCapacity }]);
    this.book.handOut(steps, (k, s) => hist[s * this.histCapacity + k]);
  }

  async takeNorms(i: number): Promise<number[]> {
    this.alive();
    await this.drainNorms();
    return this.book.take(i);
  }

  async evaluate(indices: number[], withSpectra: boolean): Promise<EvalRecord[]> {
    this.alive();
    this.flush();
    const out = await this.evaluator.evaluate(indices, withSpectra, (regions) => this.read(regions), (entries) => this.runEntries(entries), (i) => this.stepOf(i), this.eigenvalues, (e) => recordsUpdateGap(this.configs[0]) && this.ring.holds(e));
    return out;
  }

  /** Encodes and submits a list of entries now (evaluations, loss passes). */
  private runEntries(entries: Entry[]): void {
    this.flush();
    const encoder = this.ctx.device.createCommandEncoder();
    this.counts.dispatches += encode(this.ctx, encoder, entries);
    this.ctx.device.queue.submit([encoder.finish()]);
    this.ctx.counters.submits++;
    this.counts.submits++;
  }

  /** Mean training loss of every run at its current parameters (no mix), read back: [S]. */
  async trainLosses(): Promise<number[]> {
    this.alive();
    this.runEntries(this.forwardOnly);
    const n = this.train.n;
    const [loss] = await this.read([{ buffer: this.train.loss, offset: 0, length: this.size * n }]);
    return Array.from({ length: this.size }, (_, s) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += loss[s * n + i];
      return sum / n;
    });
  }

  async snapshot(i: number): Promise<TrainState> {
    this.alive();
    const l = this.layout;
    const [p, m, v] = await this.read(['params', 'm', 'v'].map((k) => ({ buffer: this.buf[k], offset: i * l.P, length: l.P })));
    const split = (flat: Float32Array): HostParams => Object.fromEntries(l.names.map((name) => [name, { shape: [...l.shapes[name]], data: flat.slice(l.off[name], l.off[name] + l.shapes[name].reduce((a, b) => a * b, 1)) }]));
    return { step: this.stepOf(i), params: split(p), m: split(m), v: split(v) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.flush();
    } catch {
      // a lost device: nothing to submit to
    }
    this.rec.destroy();
  }
}
