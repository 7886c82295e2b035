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
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

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

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 2 ** 20 });
  server.on('upgrade', (req, socket, head) => {
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
    const unsubscribe = opts.service.subscribe((event) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event }));
    });
    ws.on('close', unsubscribe);
    ws.on('message', async (raw) => {
      let msg: { id?: unknown; method?: unknown; args?: unknown };
      try {
        msg = JSON.parse(String(raw));
      } catch {
        ws.send(JSON.stringify({ id: null, error: 'message is not JSON' }));
        return;
      }
      const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null;
      try {
        const result = await opts.service.dispatch(String(msg.method), msg.args ?? []);
        ws.send(JSON.stringify({ id, result: result ?? null }));
      } catch (err) {
        ws.send(JSON.stringify({ id, error: firstLine(err) }));
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
