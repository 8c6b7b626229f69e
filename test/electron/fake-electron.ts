/**
 * A small stand-in for the `electron` module: records what the main process asks of it so tests can
 * check window options, IPC handlers, protocol handling and navigation guards in plain Node.
 */
type Listener = (...args: unknown[]) => unknown;

export class FakeWebContents {
  readonly listeners = new Map<string, Listener[]>();
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  readonly sent: { channel: string; payload: unknown }[] = [];
  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  emit(event: string, ...args: unknown[]) {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.windowOpenHandler = handler;
  }
  send(channel: string, payload: unknown) {
    this.sent.push({ channel, payload });
  }
}

export class FakeBrowserWindow {
  static instances: FakeBrowserWindow[] = [];
  static getFocusedWindow() {
    return FakeBrowserWindow.instances[0] ?? null;
  }
  readonly webContents = new FakeWebContents();
  readonly listeners = new Map<string, Listener[]>();
  loadedUrl: string | null = null;
  maximized = false;
  constructor(readonly options: { webPreferences: Record<string, unknown> } & Record<string, unknown>) {
    FakeBrowserWindow.instances.push(this);
  }
  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  emit(event: string) {
    for (const l of this.listeners.get(event) ?? []) l();
  }
  maximize() {
    this.maximized = true;
  }
  isMaximized() {
    return this.maximized;
  }
  getNormalBounds() {
    return { x: 10, y: 20, width: 1111, height: 777 };
  }
  async loadURL(url: string) {
    this.loadedUrl = url;
  }
}

export const fake = {
  ipcHandlers: new Map<string, Listener>(),
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  privilegedSchemes: [] as unknown[],
  menuTemplate: null as unknown[] | null,
  singleInstanceLock: true,
  headersListener: null as null | ((details: { responseHeaders: Record<string, string[]> }, cb: (r: unknown) => void) => void),
  permissionHandler: null as null | ((wc: unknown, permission: string, cb: (allow: boolean) => void) => void),
};

export const electronModule = {
  app: {
    whenReady: async () => undefined,
    on: () => undefined,
    quit: () => undefined,
    exit: () => undefined,
    requestSingleInstanceLock: () => fake.singleInstanceLock,
  },
  Menu: {
    buildFromTemplate: (template: unknown[]) => {
      fake.menuTemplate = template;
      return template;
    },
    setApplicationMenu: () => undefined,
  },
  dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
  BrowserWindow: FakeBrowserWindow,
  ipcMain: {
    handle(channel: string, listener: Listener) {
      fake.ipcHandlers.set(channel, listener);
    },
  },
  protocol: {
    registerSchemesAsPrivileged(schemes: unknown[]) {
      fake.privilegedSchemes.push(...schemes);
    },
    handle(scheme: string, handler: (request: Request) => Promise<Response>) {
      fake.protocolHandlers.set(scheme, handler);
    },
  },
  session: {
    defaultSession: {
      webRequest: {
        onHeadersReceived(listener: typeof fake.headersListener) {
          fake.headersListener = listener;
        },
      },
      setPermissionRequestHandler(handler: typeof fake.permissionHandler) {
        fake.permissionHandler = handler;
      },
    },
  },
};
