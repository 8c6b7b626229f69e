/**
 * The desktop shell around the window: one instance only, native menus (open warehouse, recent,
 * reload, devtools in development), and a window that remembers its size and position.
 */
import { BrowserWindow, Menu, app, dialog, type MenuItemConstructorOptions } from 'electron';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized?: boolean;
}

const DEFAULT_STATE: WindowState = { width: 1400, height: 900 };

function stateFile(dataDir: string): string {
  return join(dataDir, 'window-state.json');
}

/** The saved window bounds, or the defaults when none (or a corrupt file) exists. */
export function readWindowState(dataDir: string): WindowState {
  try {
    const s = JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as Partial<WindowState>;
    if (typeof s.width === 'number' && typeof s.height === 'number' && s.width >= 400 && s.height >= 300) {
      return { width: s.width, height: s.height, x: s.x, y: s.y, maximized: s.maximized === true };
    }
  } catch {
    // First start or unreadable: defaults.
  }
  return { ...DEFAULT_STATE };
}

export async function saveWindowState(dataDir: string, win: Pick<BrowserWindow, 'getNormalBounds' | 'isMaximized'>): Promise<void> {
  const b = win.getNormalBounds();
  const file = stateFile(dataDir);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ width: b.width, height: b.height, x: b.x, y: b.y, maximized: win.isMaximized() }));
}

/** Returns false when another instance already runs (it is focused instead and this one quits). */
export function claimSingleInstance(focus: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', focus);
  return true;
}

export interface MenuActions {
  openWarehouse(path: string): void;
  recent(): string[];
}

export function buildMenuTemplate(actions: MenuActions, dev: boolean): MenuItemConstructorOptions[] {
  const openDialog = async () => {
    const win = BrowserWindow.getFocusedWindow();
    const options = { title: 'Open warehouse or table folder', properties: ['openDirectory' as const] };
    const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    if (!result.canceled && result.filePaths[0]) actions.openWarehouse(result.filePaths[0]);
  };
  const recent = actions.recent();
  return [
    {
      label: 'File',
      submenu: [
        { label: 'Open Warehouse…', accelerator: 'CmdOrCtrl+O', click: () => void openDialog() },
        {
          label: 'Open Recent',
          enabled: recent.length > 0,
          submenu: recent.map((path) => ({ label: path, click: () => actions.openWarehouse(path) })),
        },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { label: 'Edit', submenu: [{ role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    {
      label: 'View',
      submenu: [{ role: 'reload' }, ...(dev ? [{ role: 'toggleDevTools' } as MenuItemConstructorOptions] : []), { type: 'separator' }, { role: 'togglefullscreen' }],
    },
  ];
}

export function installMenu(actions: MenuActions, dev: boolean): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(buildMenuTemplate(actions, dev)));
}
