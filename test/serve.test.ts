import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { API_METHODS, type LiveEvent } from '../core/api.js';
import { Rng } from '../core/rng.js';
import { GrokscopeService } from '../core/service/service.js';
import { EVENT_BUFFER_BYTES, MAX_IN_FLIGHT, serve, type RunningServer } from '../main/server/serve.js';
import { makeFixtureRun } from './helpers/fixture-run.js';

/**
 * `grokscope serve` against clients that misbehave: each test ends by checking that a
 * well-behaved client is still answered. (Token, Origin and path refusals: test/e2e.test.ts.)
 */
describe('serve survives hostile clients', () => {
  let dir: string;
  let server: RunningServer;
  let service: GrokscopeService;
  const MAX_MESSAGE = 1 * 2 ** 20;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'grokscope-serve-'));
    const staticDir = path.join(dir, 'static');
    mkdirSync(staticDir);
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
    await makeFixtureRun(path.join(dir, 'lib'), { id: 'served-run' });
    service = new GrokscopeService(path.join(dir, 'lib'), null);
    server = await serve({ service, staticDir, maxMessageBytes: MAX_MESSAGE });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function connect(): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  /** Send requests and collect the reply to each (by id). */
  function ask(ws: WebSocket, messages: unknown[]): Promise<Map<unknown, { result?: unknown; error?: string }>> {
    const replies = new Map<unknown, { result?: unknown; error?: string }>();
    return new Promise((resolve, reject) => {
      ws.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as { id?: unknown; event?: unknown; result?: unknown; error?: string };
        if ('event' in m) return;
        replies.set(m.id, m);
        if (replies.size === messages.length) resolve(replies);
      });
      ws.once('close', () => reject(new Error(`closed after ${replies.size} of ${messages.length} replies`)));
      for (const m of messages) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    });
  }

  async function stillServes(): Promise<void> {
    const ws = await connect();
    const replies = await ask(ws, [{ id: 'check', method: 'listRuns', args: [] }]);
    expect((replies.get('check')!.result as { id: string }[]).map((r) => r.id)).toEqual(['served-run']);
    ws.close();
  }

  it('closes a client that sends an oversized message, and goes on', async () => {
    const ws = await connect();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined); // the client side sees the close too
    ws.send(JSON.stringify({ id: 1, method: 'importFiles', args: [[{ name: 'big.grokrun', base64: 'A'.repeat(MAX_MESSAGE + 10) }]] }));
    expect(await closed).toBe(1009); // "message too big"
    expect(server.stats.socketErrors).toBeGreaterThan(0);
    await stillServes();
  });

  it('answers malformed and random messages with one-line errors (a fuzz of 10,000)', async () => {
    const rng = new Rng(17, 0);
    const pick = <T,>(xs: readonly T[]): T => xs[rng.int(xs.length)];
    const junk = (): unknown => pick([null, 0, -1, 1e308, 'x', '', [], {}, [[]], { a: 1 }, 'a'.repeat(300), true, ['served-run'], [['served-run'], 'csv']]);
    const messages: unknown[] = ['not json', '[1,2]', 'null', '"str"', '{"id": {"x": 1}}'];
    for (let i = messages.length; i < 10_000; i++) {
      const kind = rng.int(4);
      if (kind === 0) messages.push({ id: i, method: pick([...API_METHODS, 'constructor', '__proto__', 'dispatch', 'subscribe', 'x']), args: junk() });
      else if (kind === 1) messages.push({ id: i, method: pick(API_METHODS), args: [junk(), junk()] });
      else if (kind === 2) messages.push({ id: i, method: 'getRun', args: [pick(['served-run', 'serv', 'nope', '', 'x'.repeat(500)]), junk()] });
      else messages.push({ id: i, method: 'exportRuns', args: [[pick(['served-run', 'nope'])], pick(['csv', 'zip', 'grokrun', 1])] });
    }
    const ws = await connect();
    // Unnumbered replies share id null; count the numbered ones and make sure nothing hung.
    const numbered = messages.filter((m) => typeof m === 'object' && m !== null && typeof (m as { id: unknown }).id === 'number');
    const replies = new Map<unknown, { result?: unknown; error?: string }>();
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as { id?: unknown; event?: unknown; error?: string };
        if ('event' in m) return;
        if (m.error !== undefined) expect(m.error).not.toMatch(/\n/);
        if (m.id !== null) replies.set(m.id, m);
        if (replies.size === numbered.length) resolve();
      });
      ws.once('close', () => reject(new Error('closed')));
      // In batches of MAX_IN_FLIGHT, so that every request is answered rather than refused as busy.
      let sent = 0;
      const sendBatch = (): void => {
        for (const m of messages.slice(sent, sent + MAX_IN_FLIGHT)) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
        sent += MAX_IN_FLIGHT;
        if (sent < messages.length) setImmediate(sendBatch);
      };
      sendBatch();
    });
    expect([...replies.values()].some((r) => r.error === undefined)).toBe(true); // some were valid calls
    ws.close();
    await stillServes();
  }, 60_000);

  it('refuses more than MAX_IN_FLIGHT requests at once from one client, answering every one', async () => {
    const ws = await connect();
    const n = MAX_IN_FLIGHT * 3;
    // compare, which is not answered from the read cache: each one holds a library session, so
    // the requests are still in flight when the later ones arrive.
    const replies = await ask(ws, Array.from({ length: n }, (_, i) => ({ id: i, method: 'compare', args: [['served-run']] })));
    const busy = [...replies.values()].filter((r) => /too many requests in flight/.test(r.error ?? ''));
    expect(replies.size).toBe(n);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.length).toBeLessThan(n);
    ws.close();
    await stillServes();
  });

  it('stops sending live events to a client that never reads, keeping its buffer bounded', async () => {
    // A raw socket that completes the WebSocket handshake and then never reads a byte.
    const raw = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    raw.write(
      `GET /api?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((resolve) => raw.once('data', () => resolve()));
    raw.pause();
    const reader = await connect();
    let received = 0;
    reader.on('message', (m) => {
      if (String(m).startsWith('{"event"')) received++;
    });
    // 3,000 events of ~16 KB (48 MB): more than the kernel's socket buffers and the event budget.
    const latest = { step: 1, train_acc: 1, test_acc: 1, train_loss: 0, test_loss: 0, weight_norm: 1, entropy: { pad: 'x'.repeat(16_000) as unknown as number } };
    const emit = (service as unknown as { emit(e: LiveEvent): void }).emit.bind(service);
    for (let i = 0; i < 3000; i++) {
      emit({ type: 'run-progress', id: 'r', step: i, totalSteps: 3000, stepsPerSecond: null, etaSeconds: null, backend: null, latest });
      // The reader keeps up (at most 200 events, 3.2 MB, in flight to it: under the budget, so none
      // of its events may be dropped), however slowly a loaded machine drains its socket; the raw
      // client reads nothing and its share piles up. (Yielding once per 100 events instead let a
      // loaded 2-core machine fall behind on the reader too, which then lost events: seen in CI.)
      if (i % 100 === 99) await expect.poll(() => received, { timeout: 60_000 }).toBeGreaterThanOrEqual(i + 1 - 100);
    }
    // A bound, not a speed: 48 MB through a local socket took 21 s+ on a 2-core machine under load.
    await expect.poll(() => received, { timeout: 60_000 }).toBe(3000);
    expect(server.stats.droppedEvents).toBeGreaterThan(0);
    expect(server.stats.maxBuffered).toBeLessThan(EVENT_BUFFER_BYTES + 100_000);
    raw.destroy();
    reader.close();
    await stillServes();
  }, 90_000);

  it('survives clients that reset mid-handshake or mid-message', async () => {
    for (let i = 0; i < 20; i++) {
      const raw = net.connect(server.port, '127.0.0.1');
      await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
      raw.write(`GET /api?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
      if (i % 2) raw.write('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\xfe\xff');
      raw.resetAndDestroy();
    }
    await stillServes();
  });
});
