import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import type { ApiEvents, EventName, HandlerContext, HandlerTable } from '../api';
import { CALL_ROUTE, EVENTS_ROUTE } from '../api';
import { toWire } from '../api';
import { STORAGE_ROUTE, type StoragePort } from '../storage';
import { RENDERER_CSP } from './csp';
import { dispatchCall } from './dispatch';
import { serveFileRequest, type AllowedRoots } from './file-server';

/**
 * Browser mode: the renderer and the handler table over HTTP on 127.0.0.1 only, guarded by a random
 * per-run token. The page is opened at `/?token=…`; the server then sets a SameSite=Strict,
 * HttpOnly cookie so that assets, calls and events carry it. Scripts may also send
 * `Authorization: Bearer <token>`. No CORS headers are ever sent, and the Host header must be the
 * loopback address we listen on (a guard against DNS rebinding).
 */
export interface BrowserServerOptions {
  handlers: HandlerTable;
  storage: StoragePort;
  roots: AllowedRoots;
  /** Folder of the built renderer (index.html + assets). */
  rendererDir: string;
  /** 0 for a random free port. */
  port?: number;
  token?: string;
}

export interface BrowserServer {
  server: Server;
  port: number;
  token: string;
  /** The URL to open: it carries the token once. */
  url: string;
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
  close(): Promise<void>;
}

const COOKIE = 'tidemark_token';
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
const MAX_BODY_BYTES = 10 * 1024 * 1024;

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

function send(res: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  send(res, status, JSON.stringify(value), { 'content-type': 'application/json' });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = resolve(options.rendererDir);
  const streams = new Set<ServerResponse>();
  let port = 0;

  const emit: HandlerContext['emit'] = (event, payload) => {
    const data = `data: ${JSON.stringify({ event, payload: toWire(payload) })}\n\n`;
    for (const s of streams) s.write(data);
  };
  const ctx: HandlerContext = { emit };

  function authorised(req: IncomingMessage, url: URL): 'ok' | 'via-query' | 'no' {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ') && sameToken(header.slice(7), token)) return 'ok';
    const cookie = readCookie(req, COOKIE);
    if (cookie && sameToken(cookie, token)) return 'ok';
    const query = url.searchParams.get('token');
    if (query && sameToken(query, token)) return 'via-query';
    return 'no';
  }

  async function serveStatic(res: ServerResponse, pathname: string) {
    let rel = decodeURIComponent(pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = resolve(join(rendererDir, rel));
    if (file !== rendererDir && !file.startsWith(rendererDir + sep)) return sendJson(res, 403, { error: { code: 'InvalidInput', message: 'path outside the app' } });
    let target = file;
    let info = await stat(target).catch(() => null);
    if (!info?.isFile()) {
      // Client-side routes (e.g. /table/demo.orders) fall back to the app shell; missing assets 404.
      if (extname(rel)) return sendJson(res, 404, { error: { code: 'NotFound', message: `not found: ${rel}` } });
      target = join(rendererDir, 'index.html');
      info = await stat(target).catch(() => null);
      if (!info) return send(res, 500, `renderer not built: ${rendererDir} has no index.html (run npm run build:renderer)`, { 'content-type': 'text/plain' });
    }
    res.writeHead(200, {
      'content-type': MIME[extname(target)] ?? 'application/octet-stream',
      'content-length': String(info.size),
      'content-security-policy': RENDERER_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    });
    createReadStream(target).pipe(res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return sendJson(res, 403, { error: { code: 'InvalidInput', message: `unexpected Host header ${JSON.stringify(host)}` } });
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const auth = authorised(req, url);
    if (auth === 'no') return sendJson(res, 401, { error: { code: 'InvalidInput', message: 'missing or wrong token' } });
    if (auth === 'via-query') {
      // Trade the one-time URL token for a cookie and drop it from the address bar.
      url.searchParams.delete('token');
      return send(res, 302, '', {
        location: `${url.pathname}${url.search}`,
        'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (req.method === 'POST' && url.pathname.startsWith(CALL_ROUTE)) {
      const name = decodeURIComponent(url.pathname.slice(CALL_ROUTE.length));
      let input: unknown;
      try {
        const body = await readBody(req);
        input = body ? JSON.parse(body) : {};
      } catch (e) {
        return sendJson(res, 400, { ok: false, error: { code: 'InvalidInput', message: `bad request body: ${(e as Error).message}`, context: {} } });
      }
      return sendJson(res, 200, await dispatchCall(options.handlers, name, input, ctx));
    }
    if (req.method === 'GET' && url.pathname === EVENTS_ROUTE) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': connected\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith(`${STORAGE_ROUTE}/`)) {
      const op = url.pathname.slice(STORAGE_ROUTE.length + 1);
      const r = await serveFileRequest(options.storage, options.roots, { op, path: url.searchParams.get('path'), range: req.headers.range ?? null });
      return send(res, r.status, r.body, r.headers);
    }
    if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(res, url.pathname);
    return sendJson(res, 405, { error: { code: 'InvalidInput', message: `method ${req.method} not allowed` } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'Internal', message: (e as Error).message } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    emit,
    async close() {
      for (const s of streams) s.end();
      const closed = new Promise<void>((r) => server.close(() => r()));
      // An open page keeps keep-alive connections: shutting down must not wait for the tab to close.
      server.closeAllConnections();
      await closed;
    },
  };
}
