// Entry of the Electron main process (bundled to electron/dist/main.cjs by electron/build.mjs).
import { app } from 'electron';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDemoLake } from '../core/app/data-dir';
import { registerAppScheme, startMain } from './app';
import { claimSingleInstance } from './shell';

const here = dirname(fileURLToPath(import.meta.url));
const warehouseArg = process.argv.find((a) => a.startsWith('--warehouse='));
const dataDir = process.env.TIDEMARK_HOME || app.getPath('userData');
let focus = () => undefined as void;
if (claimSingleInstance(() => focus())) {
  registerAppScheme();
  app.on('window-all-closed', () => app.quit());
  (async () => {
    const win = await startMain({
      rendererDir: resolve(here, '../../renderer/dist'),
      preloadPath: join(here, 'preload.cjs'),
      // First start without a warehouse opens the demo lake, kept in the app's data folder.
      initialWarehouse: warehouseArg ? warehouseArg.slice('--warehouse='.length) : await ensureDemoLake(dataDir),
      dataDir,
      dev: !app.isPackaged,
    });
    focus = () => {
      if (win.isMinimized()) win.restore();
      win.focus();
    };
  })().catch((e: unknown) => {
    console.error(`error[Internal]: ${(e as Error).message}`);
    app.exit(1);
  });
}
