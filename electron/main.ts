// Entry of the Electron main process (bundled to electron/dist/main.cjs by electron/build.mjs).
import { app } from 'electron';
import { join, resolve } from 'node:path';
import { registerAppScheme, startMain } from './app';

const warehouseArg = process.argv.find((a) => a.startsWith('--warehouse='));
registerAppScheme();
app.on('window-all-closed', () => app.quit());
startMain({
  rendererDir: resolve(__dirname, '../../renderer/dist'),
  preloadPath: join(__dirname, 'preload.cjs'),
  initialWarehouse: warehouseArg ? warehouseArg.slice('--warehouse='.length) : null,
}).catch((e: unknown) => {
  console.error(`error[Internal]: ${(e as Error).message}`);
  app.exit(1);
});
