/**
 * The Electron main process: one window with contextIsolation, sandbox, no nodeIntegration and a
 * strict CSP; one IPC handler table typed against the contract (validate → call core → wrap);
 * the renderer and lake files served through the privileged `tidemark://app/` scheme; navigation
 * and new windows blocked. Everything that needs `electron` is imported here so tests can replace
 * the module with a small fake.
 */
import { BrowserWindow, app, ipcMain, protocol, session, type IpcMainInvokeEvent } from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../core/api/client';
import type { HandlerContext } from '../core/api/contract';
import { toWire, type Reply } from '../core/api/wire';
import { RENDERER_CSP } from '../core/app/csp';
import { dispatchCall } from '../core/app/dispatch';
import { AllowedRoots, serveFileRequest } from '../core/app/file-server';
import { createHandlers } from '../core/app/handlers';
import { createProfileStore } from '../core/app/profiles';
import { createRemoteLakes } from '../core/app/remote-lakes';
import { createSettingsStore } from '../core/app/settings';
import { STORAGE_ROUTE } from '../core/storage';
import { createLocalStorage } from '../core/storage/node/index';
import { createSyncService } from '../core/app/sync-service';
import { createKeychainSecrets } from './secrets';
import { installMenu, readWindowState, saveWindowState, type MenuActions } from './shell';

export const APP_SCHEME = 'tidemark';
export const APP_ORIGIN = `${APP_SCHEME}://app`;

export interface MainOptions {
  /** Folder of the built renderer. */
  rendererDir: string;
  preloadPath: string;
  initialWarehouse: string | null;
  /** The app's data folder (window state, recent warehouses, demo lake). */
  dataDir: string;
  /** Development build: devtools in the View menu. */
  dev?: boolean;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** Must run before `app.whenReady()`: the app scheme gets fetch, streaming and a secure origin. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

export const WEB_PREFERENCES = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
});

/** IPC requests are answered only for our own page, never for other frames or origins. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>): boolean {
  const url = event.senderFrame?.url ?? '';
  return url.startsWith(`${APP_ORIGIN}/`);
}

export async function startMain(options: MainOptions): Promise<BrowserWindow> {
  // safeStorage keeps pipeline passwords and profile secrets; remote lakes route by lake id.
  const secrets = createKeychainSecrets(options.dataDir);
  const profiles = createProfileStore({ dataDir: options.dataDir, secrets });
  const remote = createRemoteLakes({ local: createLocalStorage(), profiles });
  const storage = remote.storage;
  const roots = new AllowedRoots();
  const recent: string[] = [];
  const windows = new Set<BrowserWindow>();
  const emit: HandlerContext['emit'] = (event, payload) => {
    for (const w of windows) w.webContents.send(IPC_EVENT_CHANNEL, { event, payload: toWire(payload) });
  };
  const sync = createSyncService({ dataDir: options.dataDir, secrets });
  app.on('before-quit', () => void sync.stopAll());
  const handlers = createHandlers({
    sync,
    storage,
    remote,
    profiles,
    settings: createSettingsStore({ dataDir: options.dataDir }),
    mode: 'electron',
    electronVersion: process.versions.electron ?? null,
    allowRoot: (p) => {
      roots.add(p);
      // Remote lake ids live as long as the process: they are not offered as recent folders.
      if (remote.isRemote(p)) return;
      // The File → Open Recent menu follows what the user opened.
      recent.splice(0, recent.length, p, ...recent.filter((r) => r !== p).slice(0, 7));
      installMenu(menuActions, options.dev === true);
    },
    initialWarehouse: options.initialWarehouse,
  });
  const menuActions: MenuActions = {
    openWarehouse: (path) => emit('app.openWarehouse', { path }),
    recent: () => [...recent],
  };

  ipcMain.handle(IPC_CALL_CHANNEL, async (event, name: unknown, input: unknown): Promise<Reply<unknown>> => {
    if (!isTrustedSender(event)) {
      return { ok: false, error: { code: 'InvalidInput', message: 'IPC call from an untrusted frame', context: {} } };
    }
    return dispatchCall(handlers, name, input, { emit });
  });

  await app.whenReady();

  const rendererDir = resolve(options.rendererDir);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return new Response('not found', { status: 404 });
    if (url.pathname.startsWith(`${STORAGE_ROUTE}/`)) {
      const r = await serveFileRequest(storage, roots, {
        op: url.pathname.slice(STORAGE_ROUTE.length + 1),
        path: url.searchParams.get('path'),
        range: request.headers.get('range'),
      });
      return new Response(r.body as BodyInit, { status: r.status, headers: r.headers });
    }
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    let file = resolve(join(rendererDir, rel));
    if (!file.startsWith(rendererDir + sep)) return new Response('forbidden', { status: 403 });
    if (!extname(file)) file = join(rendererDir, 'index.html');
    try {
      const body = await readFile(file);
      return new Response(body, {
        status: 200,
        headers: { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'content-security-policy': RENDERER_CSP },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });

  // The CSP also on every other response the session sees (defence in depth).
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
  // No remote content: deny every permission request (camera, notifications, …).
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  const state = readWindowState(options.dataDir);
  const win = new BrowserWindow({
    width: state.width,
    height: state.height,
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    title: 'Tidemark',
    show: true,
    webPreferences: { ...WEB_PREFERENCES, preload: options.preloadPath },
  });
  if (state.maximized) win.maximize();
  windows.add(win);
  installMenu(menuActions, options.dev === true);
  win.on('close', () => void saveWindowState(options.dataDir, win).catch(() => undefined));
  win.on('closed', () => windows.delete(win));
  win.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  await win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}
