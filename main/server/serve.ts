import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GrokscopeService } from '../../core/service/service.js';
import { firstLine } from '../../core/errors.js';

/**
 * `grokscope serve`: the renderer and the api.ts contract on 127.0.0.1, for GPU boxes without a
 * display and for browser tests. Like Jupyter, a random token is printed with the URL; the page
 * loaded with `?token=…` keeps it in a cookie (HttpOnly, SameSite=Strict). Every request — files,
 * WebSocket — without the token is refused (403). Only loopback is bound.
 *
 * WebSocket protocol (JSON): client → {id, method, args}; server → {id, result} | {id, error};
 * server → {event: LiveEvent} for every live event.
 */
export interface ServeOptions {
  service: GrokscopeService;
  /** Built renderer (index.html and assets). */
  staticDir: string;
  port?: number;
  token?: string;
  /** Largest message accepted (default MAX_MESSAGE_BYTES); tests set a small one. */
  maxMessageBytes?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  /** What the server did to protect itself (tests, diagnostics). */
  stats: ServerStats;
  close(): Promise<void>;
}

export interface ServerStats {
  clients: number;
  /** Live events not sent to a client that had EVENT_BUFFER_BYTES waiting unread. */
  droppedEvents: number;
  /** Clients disconnected because MAX_BUFFERED_BYTES of replies waited unread. */
  closedSlowClients: number;
  /** Requests refused because MAX_IN_FLIGHT of the same client's were still running. */
  refusedBusy: number;
  /** Socket and protocol errors (oversized frames, resets, bad frames) survived. */
  socketErrors: number;
  /** Most bytes ever waiting unread for one client. */
  maxBuffered: number;
}

/** One message at most (an import of 64 MiB of files arrives as base64 in one call). */
export const MAX_MESSAGE_BYTES = 96 * 2 ** 20;
/** Unread bytes past which a client stops getting live events. */
export const EVENT_BUFFER_BYTES = 4 * 2 ** 20;
/** Unread bytes past which a client is disconnected (a reply larger than this still goes out whole). */
export const MAX_BUFFERED_BYTES = 256 * 2 ** 20;
/** Requests of one client running at once; more are answered at once with an error. */
export const MAX_IN_FLIGHT = 32;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const COOKIE = 'grokscope_token';

function tokenFrom(req: http.IncomingMessage): string | null {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = req.headers.cookie?.split(';').map((c) => c.trim().split('=')).find(([k]) => k === COOKIE);
  return cookie ? decodeURIComponent(cookie[1] ?? '') : null;
}

function sameToken(a: string | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const root = path.resolve(opts.staticDir);
  if (!existsSync(path.join(root, 'index.html'))) throw new Error(`the renderer is not built (no ${path.join(root, 'index.html')}); run 'npm run build:renderer'`);

  const server = http.createServer((req, res) => {
    const given = tokenFrom(req);
    if (!sameToken(given, token)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('403: open the URL with ?token=… that grokscope serve printed\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    };
    if (url.searchParams.has('token')) headers['set-cookie'] = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers);
    res.end(readFileSync(file));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? MAX_MESSAGE_BYTES });
  const stats: ServerStats = { clients: 0, droppedEvents: 0, closedSlowClients: 0, refusedBusy: 0, socketErrors: 0, maxBuffered: 0 };
  server.on('upgrade', (req, socket, head) => {
    // A client that resets mid-handshake must not become an unhandled 'error'.
    socket.on('error', () => {
      stats.socketErrors++;
      socket.destroy();
    });
    const origin = req.headers.origin;
    // Browsers send Origin: refuse pages from elsewhere even if they learnt the token.
    const hostOk = origin === undefined || /^http:\/\/(127\.0\.0\.1|localhost):\d+$/.test(origin);
    if (!sameToken(tokenFrom(req), token) || !hostOk || new URL(req.url ?? '/', 'http://x').pathname !== '/api') {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    stats.clients++;
    let inFlight = 0;
    /** Replies are never dropped; a client that lets them pile up past the limit is disconnected. */
    const reply = (message: unknown): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify(message));
      stats.maxBuffered = Math.max(stats.maxBuffered, ws.bufferedAmount);
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        stats.closedSlowClients++;
        ws.terminate();
      }
    };
    const unsubscribe = opts.service.subscribe((event) => {
      if (ws.readyState !== ws.OPEN) return;
      // Live events are redrawn by the next one: a client that does not read loses them, not us.
      if (ws.bufferedAmount > EVENT_BUFFER_BYTES) {
        stats.droppedEvents++;
        return;
      }
      reply({ event });
    });
    ws.on('close', () => {
      stats.clients--;
      unsubscribe();
    });
    // Oversized frames, bad UTF-8, protocol violations, resets: `ws` closes the socket and reports
    // here; without a listener the 'error' event would take the whole server (and its runs) down.
    ws.on('error', () => {
      stats.socketErrors++;
      ws.terminate();
    });
    ws.on('message', async (raw) => {
      let msg: { id?: unknown; method?: unknown; args?: unknown };
      try {
        msg = JSON.parse(String(raw));
      } catch {
        reply({ id: null, error: 'message is not JSON' });
        return;
      }
      if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
        reply({ id: null, error: 'a message is a JSON object {id, method, args}' });
        return;
      }
      const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null;
      if (inFlight >= MAX_IN_FLIGHT) {
        stats.refusedBusy++;
        reply({ id, error: `too many requests in flight (${MAX_IN_FLIGHT}); wait for answers before sending more` });
        return;
      }
      inFlight++;
      try {
        const result = await opts.service.dispatch(String(msg.method), msg.args ?? []);
        reply({ id, result: result ?? null });
      } catch (err) {
        reply({ id, error: firstLine(err) });
      } finally {
        inFlight--;
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
