import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../core/api';
import { createHandlers } from '../../core/app/handlers';
import { AllowedRoots } from '../../core/app/file-server';
import { startBrowserServer, type BrowserServer } from '../../core/app/http-server';
import { createHttpStorage } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';

let server: BrowserServer;
let dir: string;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-server-'));
  await mkdir(join(dir, 'app/assets'), { recursive: true });
  await writeFile(join(dir, 'app/index.html'), '<!doctype html><title>Tidemark</title><div id="root"></div>');
  await writeFile(join(dir, 'app/assets/x.js'), 'console.log(1)');
  await mkdir(join(dir, 'lake/ns/t/metadata'), { recursive: true });
  await writeFile(join(dir, 'lake/ns/t/metadata/v1.metadata.json'), '{"format-version":2}');
  await writeFile(join(dir, 'secret.txt'), 'do not serve');
  await symlink(join(dir, 'secret.txt'), join(dir, 'lake/escape.txt'));
  const storage = createLocalStorage();
  const roots = new AllowedRoots();
  const handlers = createHandlers({ storage, mode: 'browser', electronVersion: null, allowRoot: (p) => roots.add(p), initialWarehouse: null });
  server = await startBrowserServer({ handlers, storage, roots, rendererDir: join(dir, 'app') });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const auth = () => ({ authorization: `Bearer ${server.token}` });

describe('browser-mode server', () => {
  it('listens on 127.0.0.1 with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('answers 401 without the token, for pages, calls and files', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/assets/x.js`)).status).toBe(401);
    expect((await fetch(`${base}/api/call/app.version`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${base}/fs/read?path=${encodeURIComponent(join(dir, 'secret.txt'))}`)).status).toBe(401);
    expect((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('trades the URL token for a strict HttpOnly cookie, then serves the app with the CSP', async () => {
    const first = await fetch(server.url, { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(`${base}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rejects a foreign Host header (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/', headers: { host: 'evil.example:80', ...auth() } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('serves the contract through the typed HTTP client, sends no CORS headers', async () => {
    const client = createHttpClient({ baseUrl: base, token: server.token });
    const version = await client.call('app.version', {});
    expect(version).toEqual({ ok: true, value: expect.objectContaining({ version: '0.1.0', mode: 'browser', electron: null }) });
    const listing = await client.call('lake.openWarehouse', { path: join(dir, 'lake') });
    expect(listing).toEqual({ ok: true, value: { path: join(dir, 'lake'), tables: [{ namespace: 'ns', name: 't', path: join(dir, 'lake/ns/t'), format: 'iceberg' }] } });
    const res = await fetch(`${base}/api/call/app.version`, { method: 'POST', headers: { ...auth(), origin: 'http://evil.example' }, body: '{}' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves lake files with ranges, only below opened folders', async () => {
    const storage = createHttpStorage({ baseUrl: base, token: server.token });
    const client = createHttpClient({ baseUrl: base, token: server.token });
    await client.call('lake.openWarehouse', { path: join(dir, 'lake') });
    const file = join(dir, 'lake/ns/t/metadata/v1.metadata.json');
    expect(new TextDecoder().decode(await storage.readFile(file))).toBe('{"format-version":2}');
    expect(new TextDecoder().decode(await storage.readRange(file, 2, 14))).toBe('format-version');
    expect(await storage.stat(file)).toEqual(expect.objectContaining({ size: 20 }));
    expect(await storage.stat(join(dir, 'lake/ns/t/nope.json'))).toBeNull();
    expect((await storage.list(join(dir, 'lake/ns/t/metadata'))).map((e) => e.name)).toEqual(['v1.metadata.json']);

    for (const path of [
      join(dir, 'secret.txt'),
      `${join(dir, 'lake')}/../secret.txt`,
      '/etc/passwd',
      join(dir, 'lake/escape.txt'),
    ]) {
      await expect(storage.readFile(path), path).rejects.toMatchObject({ code: 'InvalidInput' });
    }
    // Encoded traversal reaches the server decoded exactly once and is resolved before the check.
    const encoded = await fetch(`${base}/fs/read?path=${encodeURIComponent(join(dir, 'lake'))}%2F..%2Fsecret.txt`, { headers: auth() });
    expect(encoded.status).toBe(403);
    const relative = await fetch(`${base}/fs/read?path=..%2Fsecret.txt`, { headers: auth() });
    expect(relative.status).toBe(400);
    // Static route: no escape from the renderer folder either.
    const staticEscape = await fetch(`${base}/..%2F..%2Fsecret.txt`, { headers: auth() });
    expect([403, 404]).toContain(staticEscape.status);
    expect(await staticEscape.text()).not.toContain('do not serve');
  });

  it('pushes events over server-sent events', async () => {
    const res = await fetch(`${base}/api/events`, { headers: auth() });
    const reader = res.body!.getReader();
    await reader.read(); // ': connected'
    server.emit('app.progress', { task: 't', done: 1, total: 2, message: 'half' });
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe(`data: ${JSON.stringify({ event: 'app.progress', payload: { task: 't', done: 1, total: 2, message: 'half' } })}\n\n`);
    await reader.cancel();
  });
});
