import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FIXTURES } from '../support/fixtures';
import { FakeBrowserWindow, fake } from './fake-electron';

// The Electron binary cannot be downloaded here: the main process runs against a fake module.
vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

const { APP_ORIGIN, registerAppScheme, startMain } = await import('../../electron/app');

let dir: string;
let win: FakeBrowserWindow;
const trusted = { senderFrame: { url: `${APP_ORIGIN}/index.html` } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-electron-'));
  await mkdir(join(dir, 'dist/assets'), { recursive: true });
  await writeFile(join(dir, 'dist/index.html'), '<!doctype html><div id="root"></div>');
  registerAppScheme();
  await writeFile(join(dir, 'window-state.json'), JSON.stringify({ width: 900, height: 600, x: 5, y: 6, maximized: true }));
  win = (await startMain({ rendererDir: join(dir, 'dist'), preloadPath: '/app/preload.cjs', initialWarehouse: '/w', dataDir: dir, dev: true })) as unknown as FakeBrowserWindow;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Electron main process', () => {
  it('creates one window with contextIsolation, sandbox, no nodeIntegration and the preload', () => {
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    expect(win.options.webPreferences).toEqual(
      expect.objectContaining({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, preload: '/app/preload.cjs' }),
    );
    expect(win.loadedUrl).toBe('tidemark://app/index.html');
  });

  it('registers the app scheme as privileged and sets the CSP on every response', () => {
    expect(fake.privilegedSchemes).toEqual([{ scheme: 'tidemark', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    let headers: Record<string, string[]> = {};
    fake.headersListener!({ responseHeaders: { 'x-a': ['1'] } }, (r) => (headers = (r as { responseHeaders: Record<string, string[]> }).responseHeaders));
    expect(headers['Content-Security-Policy']![0]).toMatch(/^default-src 'self'; script-src 'self' 'wasm-unsafe-eval'/);
    let allowed: boolean | null = null;
    fake.permissionHandler!(null, 'media', (a) => (allowed = a));
    expect(allowed).toBe(false);
  });

  it('blocks navigation away from the app and every new window', () => {
    const away = { preventDefault: vi.fn() };
    win.webContents.emit('will-navigate', away, 'https://example.com/');
    expect(away.preventDefault).toHaveBeenCalledOnce();
    const inside = { preventDefault: vi.fn() };
    win.webContents.emit('will-navigate', inside, `${APP_ORIGIN}/index.html#table`);
    expect(inside.preventDefault).not.toHaveBeenCalled();
    expect(win.webContents.windowOpenHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('answers contract calls over one IPC channel with plain-data replies', async () => {
    const handler = fake.ipcHandlers.get('tidemark:call')!;
    expect([...fake.ipcHandlers.keys()]).toEqual(['tidemark:call']);
    expect(await handler(trusted, 'app.version', {})).toEqual({
      ok: true,
      value: { version: '0.1.0', node: process.versions.node, electron: null, mode: 'electron' },
    });
    expect(await handler(trusted, 'app.initialState', {})).toEqual({ ok: true, value: { warehouse: '/w' } });
    expect(await handler(trusted, 'no.such', {})).toMatchObject({ ok: false, error: { code: 'InvalidInput' } });
    expect(await handler(trusted, 'lake.openWarehouse', { path: '' })).toMatchObject({ ok: false, error: { code: 'InvalidInput' } });
  });

  it('restores the saved window size and saves it on close', async () => {
    expect(win.options).toMatchObject({ width: 900, height: 600, x: 5, y: 6 });
    expect(win.maximized).toBe(true);
    win.emit('close');
    await expect.poll(async () => JSON.parse(await readFile(join(dir, 'window-state.json'), 'utf8'))).toEqual({ width: 1111, height: 777, x: 10, y: 20, maximized: true });
  });

  it('installs native menus: open warehouse, recent (updated on open), reload, devtools in dev', async () => {
    type Item = { label?: string; role?: string; submenu?: Item[]; click?: () => void };
    const menu = () => fake.menuTemplate as Item[];
    const file = menu().find((m) => m.label === 'File')!;
    expect(file.submenu!.map((i) => i.label ?? i.role)).toEqual(['Open Warehouse…', 'Open Recent', undefined, 'quit']);
    expect(menu().find((m) => m.label === 'View')!.submenu!.map((i) => i.role)).toContain('toggleDevTools');
    const ipc = fake.ipcHandlers.get('tidemark:call')!;
    const warehouse = `${FIXTURES}/iceberg`;
    await ipc(trusted, 'lake.openWarehouse', { path: warehouse });
    const recent = menu().find((m) => m.label === 'File')!.submenu!.find((i) => i.label === 'Open Recent')!;
    expect(recent.submenu!.map((i) => i.label)).toContain(warehouse);
    // Choosing a recent warehouse asks the UI to open it.
    recent.submenu!.find((i) => i.label === warehouse)!.click!();
    expect(win.webContents.sent.at(-1)).toEqual({ channel: 'tidemark:event', payload: { event: 'app.openWarehouse', payload: { path: warehouse } } });
  });

  it('refuses IPC from frames that are not the app', async () => {
    const handler = fake.ipcHandlers.get('tidemark:call')!;
    expect(await handler({ senderFrame: { url: 'https://evil.example/' } }, 'app.version', {})).toEqual({
      ok: false,
      error: { code: 'InvalidInput', message: 'IPC call from an untrusted frame', context: {} },
    });
  });

  it('serves the renderer and opened lake files through the app scheme, nothing else', async () => {
    const handle = fake.protocolHandlers.get('tidemark')!;
    const page = await handle(new Request(`${APP_ORIGIN}/index.html`));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect(page.headers.get('content-security-policy')).toContain("object-src 'none'");

    const warehouse = `${FIXTURES}/iceberg`;
    const expected = `${warehouse}/expected.json`;
    const notOpened = `${FIXTURES}/paimon/expected.json`;
    const before = await handle(new Request(`${APP_ORIGIN}/fs/read?path=${encodeURIComponent(notOpened)}`));
    expect(before.status).toBe(403);
    const ipc = fake.ipcHandlers.get('tidemark:call')!;
    expect(await ipc(trusted, 'lake.openWarehouse', { path: warehouse })).toMatchObject({ ok: true });
    const ranged = await handle(new Request(`${APP_ORIGIN}/fs/read?path=${encodeURIComponent(expected)}`, { headers: { range: 'bytes=0-0' } }));
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('{');
    const escape = await handle(new Request(`${APP_ORIGIN}/fs/read?path=${encodeURIComponent(`${warehouse}/../../../etc/passwd`)}`));
    expect(escape.status).toBe(403);
  });
});

describe('single instance', () => {
  it('a second instance quits and focuses the first', async () => {
    const { claimSingleInstance } = await import('../../electron/shell');
    fake.singleInstanceLock = false;
    expect(claimSingleInstance(() => undefined)).toBe(false);
    fake.singleInstanceLock = true;
    expect(claimSingleInstance(() => undefined)).toBe(true);
  });
});
