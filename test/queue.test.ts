import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Library } from '../core/library/library.js';
import { GrokscopeService } from '../core/service/service.js';
import type { LiveEvent } from '../core/api.js';
import { QUEUE_NAME, type GroupJob, type GroupJobResult } from '../core/queue/jobs.js';
import { savedRunName } from '../core/queue/result-store.js';
import { parseQueueUrl } from '../core/queue/connection.js';
import { root } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

/**
 * A study spread over two queue workers through a Redis of our own (Debian's redis-server on a
 * free loopback port; scripts/setup-redis.mjs installs it): one worker is SIGKILLed while it holds
 * a job, its lock expires, the other trains the job, and every run arrives exactly once with the
 * metrics of the same study trained on this machine without a queue.
 */
const bin = path.join(root, 'bin', 'grokscope.js');
const tmp = tempDir();
const spec = {
  name: 'queued',
  preset: 'fast',
  overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 80, evalEvery: 10, spectrumEvery: 40, lr: 0.01 },
  tasks: ['mod-add'],
  archs: ['transformer'],
  conditions: ['baseline', 'mix', 'norm-matched'],
  seeds: [0, 1],
  earlyStopEvals: 0,
};
const specFile = path.join(tmp.dir, 'queued.json');
writeFileSync(specFile, JSON.stringify(spec));
const results = path.join(tmp.dir, 'results');
const PASSWORD = 'lab-s3cret';
let redis: ChildProcess;
let url: string;
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `predicate` holds, checked whenever the child writes to stderr. */
function whenStderr(child: ChildProcess, predicate: (text: string) => boolean, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting; stderr so far:\n${text}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      if (predicate(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}

function worker(name: string, extra: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [bin, 'worker', '--queue', url, '--results', results, '--library', path.join(tmp.dir, name), '--workers', '1', '--lock-ms', '5000', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return child;
}

/**
 * Stop a worker and wait until it has exited: every test shares one queue, and a worker left
 * running would take the next test's jobs. SIGTERM hands its job back; SIGKILL if it lingers.
 */
async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await gone;
  clearTimeout(timer);
}

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp.dir, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `cli` without blocking this process: for a stand-in worker's event loop, and for coordinators that run while the test drives workers. */
function cliAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': the output may still be in the pipes when the process exits.
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function metricsByKey(library: string, study: string): Promise<Map<string, unknown>> {
  return Library.with(library, async (lib) => {
    const out = new Map<string, unknown>();
    for (const [key, id] of await lib.getStudyRuns(study)) out.set(key, await lib.getMetrics(id));
    return out;
  });
}

/** A password-protected redis-server of our own on `port`, once it answers (as docs/scale-out.md asks of a lab's). */
async function startRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  const proc = spawn(process.env.GROKSCOPE_REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--requirepass', PASSWORD, ...extra], { stdio: 'ignore' });
  const client = new Redis({ port, host: '127.0.0.1', password: PASSWORD, lazyConnect: true, retryStrategy: () => 50 });
  client.on('error', () => undefined); // refused until redis-server listens; retried
  await client.connect().catch(() => undefined);
  await client.ping();
  client.disconnect();
  return proc;
}

beforeAll(async () => {
  const port = await freePort();
  redis = await startRedis(port, ['--appendonly', 'no']);
  url = `redis://:${PASSWORD}@127.0.0.1:${port}/0`;
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  redis?.kill('SIGKILL');
  tmp.cleanup();
});

describe('a study on a Redis queue', () => {
  it('survives a worker killed while it holds a job: every run once, metrics as trained locally', async () => {
    const doomed = worker('lib-a');
    const coordinator = cliAsync(['study', specFile, '--queue', url, '--results', results, '--library', path.join(tmp.dir, 'lib-c'), '--out', 'report', '--json']);
    // The first worker takes a job; kill it mid-training, then start the second.
    await whenStderr(doomed, (t) => /training/.test(t));
    doomed.kill('SIGKILL');
    const second = worker('lib-b');
    const { code, stdout } = await coordinator;
    expect(code).toBe(0);
    await stopped(second); // the next test needs a queue no other worker pulls from
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { runs: number; failed: number };
    expect(out).toMatchObject({ runs: 6, failed: 0 });
    const queued = await metricsByKey(path.join(tmp.dir, 'lib-c'), 'queued');
    expect([...queued.keys()].sort()).toHaveLength(6);
    expect(await Library.with(path.join(tmp.dir, 'lib-c'), async (lib) => (await lib.listRuns()).length)).toBe(6);
    // The same study on this machine, without a queue: identical numbers.
    const local = cli(['study', specFile, '--library', path.join(tmp.dir, 'lib-local'), '--workers', '2', '--out', 'local-report', '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(await metricsByKey(path.join(tmp.dir, 'lib-local'), 'queued')).toEqual(queued);
  }, 240_000);

  it('a job taken over resumes from the checkpoints its first worker uploaded, to the same run', async () => {
    // Long enough (several seconds even on a fast, idle machine) that the doomed worker uploads at
    // a step > 0 before the run ends: at 1,500 steps it once finished between two uploads.
    const long = { ...spec, name: 'resumed', overrides: { ...spec.overrides, steps: 6000, checkpointEvery: 20 }, conditions: ['baseline'], seeds: [3] };
    const file = path.join(tmp.dir, 'resumed.json');
    writeFileSync(file, JSON.stringify(long));
    const doomed = worker('lib-d', ['--upload-every', '1']);
    const coordinator = cliAsync(['study', file, '--queue', url, '--results', results, '--library', path.join(tmp.dir, 'lib-c'), '--out', 'report-resumed', '--json']);
    try {
      await whenStderr(doomed, (t) => /uploaded with its checkpoints at step [1-9]/.test(t));
    } finally {
      doomed.kill('SIGKILL'); // also when the wait failed: a live worker would take the next test's jobs
    }
    const taker = worker('lib-e');
    const log = whenStderr(taker, (t) => /resumed.*done/.test(t));
    expect((await coordinator).code).toBe(0);
    await stopped(taker);
    expect(await log).toMatch(/baseline\/s3: resuming from its uploaded checkpoints/);
    const queued = await metricsByKey(path.join(tmp.dir, 'lib-c'), 'resumed');
    const local = cli(['study', file, '--library', path.join(tmp.dir, 'lib-local'), '--workers', '1', '--out', 'local-resumed', '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(await metricsByKey(path.join(tmp.dir, 'lib-local'), 'resumed')).toEqual(queued);
  }, 240_000);

  it('enqueues only what is missing when run again, and imports nothing twice', async () => {
    const count = (): Promise<number> => Library.with(path.join(tmp.dir, 'lib-c'), async (lib) => (await lib.listRuns()).length);
    const before = await count();
    // No worker is running: a study that needed one would wait; this one has nothing to train.
    const again = cli(['study', specFile, '--queue', url, '--results', results, '--library', path.join(tmp.dir, 'lib-c'), '--out', 'report', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').pop()!)).toMatchObject({ runs: 6, failed: 0 });
    expect(await count()).toBe(before);
  });

  it('refuses a tampered result in one line and has its job trained again', async () => {
    // A stand-in worker that hands in the runs of the first study, each first attempt corrupted.
    const tampered = { ...spec, name: 'tampered' };
    const file = path.join(tmp.dir, 'tampered.json');
    writeFileSync(file, JSON.stringify(tampered));
    const attempts = new Map<string, number>();
    const fake = new Worker<GroupJob, GroupJobResult>(
      QUEUE_NAME,
      async (job) => {
        const n = (attempts.get(job.id!) ?? 0) + 1;
        attempts.set(job.id!, n);
        const runs = job.data.keys.map((key) => {
          const out = path.join(results, savedRunName('tampered', key));
          mkdirSync(path.dirname(out), { recursive: true });
          const bytes = readFileSync(path.join(results, savedRunName('queued', key)));
          if (n === 1) bytes[bytes.length >> 1] ^= 0xff;
          writeFileSync(out, bytes);
          return { key, file: out };
        });
        return { runs };
      },
      { connection: parseQueueUrl(url).options },
    );
    try {
      const r = await cliAsync(['study', file, '--queue', url, '--results', results, '--library', path.join(tmp.dir, 'lib-t'), '--out', 'report-tampered', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const refusals = r.stderr.split('\n').filter((l) => /refused/.test(l));
      expect(refusals.length).toBeGreaterThan(0);
      expect(refusals[0]).toMatch(/^run mod-add\/transformer\/.+ refused: .+; training its job again$/);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ runs: 6, failed: 0 });
      expect(await metricsByKey(path.join(tmp.dir, 'lib-t'), 'tampered')).toEqual(await metricsByKey(path.join(tmp.dir, 'lib-c'), 'queued'));
    } finally {
      await fake.close();
    }
  });

  it('a worker refuses a job whose spec does not validate, for good', async () => {
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url).options });
    try {
      const refuser = worker('lib-f');
      const job = await queue.add('group', { study: 'bad', spec: { name: 'bad', preset: 'nope' }, keys: ['x'], deps: [] }, { jobId: 'bad.spec', attempts: 3 });
      for (let i = 0; i < 600 && (await job.getState()) !== 'failed'; i++) await new Promise((r) => setTimeout(r, 100));
      const failed = await queue.getJob('bad.spec');
      expect(await failed!.getState()).toBe('failed');
      expect(failed!.failedReason).toMatch(/invalid study spec/);
      expect(failed!.attemptsMade).toBeLessThanOrEqual(1); // no retries for a spec that cannot validate
      await stopped(refuser);
    } finally {
      await queue.close();
    }
  });

  it('the workbench starts a study on the queue and follows it with the same events', async () => {
    const service = new GrokscopeService(path.join(tmp.dir, 'lib-s'), null); // this host cannot train
    await expect(service.startStudy('quick', { queue: 'redis://127.0.0.1:1/0' })).rejects.toThrow(/^cannot use the queue at redis:\/\/127\.0\.0\.1:1\/0: /);
    const w = worker('lib-s-worker');
    const events: LiveEvent[] = [];
    const finished = new Promise<LiveEvent>((resolve) =>
      service.subscribe((e) => {
        events.push(e);
        if (e.type === 'study-finished') resolve(e);
      }),
    );
    const started = await service.startStudy({ ...spec, name: 'from-workbench', seeds: [9] }, { queue: url, results });
    expect(started).toEqual({ name: 'from-workbench', runs: 3 });
    const done = (await finished) as Extract<LiveEvent, { type: 'study-finished' }>;
    await stopped(w);
    expect(done).toMatchObject({ status: 'completed', error: null });
    expect(events.some((e) => e.type === 'study-progress')).toBe(true);
    expect((await metricsByKey(path.join(tmp.dir, 'lib-s'), 'from-workbench')).size).toBe(3);
  });

  it('names a bad queue URL or a refused password in one line', () => {
    const bad = cli(['study', specFile, '--queue', 'http://127.0.0.1:1/0', '--results', results, '--library', path.join(tmp.dir, 'lib-x')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^grokscope: --queue must be a redis:\/\/ or rediss:\/\/ URL/);
    const wrong = cli(['worker', '--queue', url.replace(PASSWORD, 'wrong'), '--results', results]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/Redis refused the password/);
    expect(wrong.stderr).not.toMatch(/wrong@/); // the URL is shown without its password
  });

  it('without a shared folder, saved runs travel through Redis, dependencies included', async () => {
    const inRedis = { ...spec, name: 'inredis', seeds: [7] };
    const file = path.join(tmp.dir, 'inredis.json');
    writeFileSync(file, JSON.stringify(inRedis));
    const w = spawn(process.execPath, [bin, 'worker', '--queue', url, '--library', path.join(tmp.dir, 'lib-g'), '--workers', '1', '--backend', 'wasm'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(w);
    const r = await cliAsync(['study', file, '--queue', url, '--library', path.join(tmp.dir, 'lib-h'), '--out', 'report-inredis', '--json']);
    await stopped(w);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/results through Redis/);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ runs: 3, failed: 0 });
    const runs = await metricsByKey(path.join(tmp.dir, 'lib-h'), 'inredis');
    expect([...runs.keys()].sort()).toEqual(['mod-add/transformer/baseline/s7', 'mod-add/transformer/mix/s7', 'mod-add/transformer/norm-matched/s7']);
    // The worker's --backend: every run trained on plain wasm and says so.
    const backends = await Library.with(path.join(tmp.dir, 'lib-h'), async (lib) => Promise.all((await lib.listRuns()).map(async (r) => (await lib.getRun(r.id)).backend)));
    expect(backends).toEqual(['wasm', 'wasm', 'wasm']);
  });
});

describe('a Redis restarted in the middle of a study (append-only file on)', () => {
  it('loses nothing: the coordinator and the worker wait for it and every run arrives once', async () => {
    const port = await freePort();
    const dir = path.join(tmp.dir, 'aof');
    mkdirSync(dir);
    const aof = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
    let server = await startRedis(port, aof);
    const local = `redis://:${PASSWORD}@127.0.0.1:${port}/0`;
    const restarted = { ...spec, name: 'restarted', seeds: [5, 6] };
    const file = path.join(tmp.dir, 'restarted.json');
    writeFileSync(file, JSON.stringify(restarted));
    const w = spawn(process.execPath, [bin, 'worker', '--queue', local, '--results', results, '--library', path.join(tmp.dir, 'lib-r'), '--workers', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(w);
    const coordinator = cliAsync(['study', file, '--queue', local, '--results', results, '--library', path.join(tmp.dir, 'lib-rc'), '--out', 'report-restarted', '--json']);
    // Once the first job is done, stop Redis (it writes its file on the way out) and start it again.
    await whenStderr(w, (t) => /done/.test(t));
    const down = new Promise((resolve) => server.on('exit', resolve));
    server.kill('SIGTERM');
    await down;
    server = await startRedis(port, aof);
    children.push(server);
    const { code, stdout } = await coordinator;
    expect(code).toBe(0);
    await stopped(w);
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ runs: 6, failed: 0 });
    const runs = await metricsByKey(path.join(tmp.dir, 'lib-rc'), 'restarted');
    expect(runs.size).toBe(6);
    expect(await Library.with(path.join(tmp.dir, 'lib-rc'), async (lib) => (await lib.listRuns()).length)).toBe(6);
  }, 240_000);
});
