import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { createHandlers } from '../../core/app/handlers';
import { createProfileStore } from '../../core/app/profiles';
import { createRemoteLakes } from '../../core/app/remote-lakes';
import { AllowedRoots } from '../../core/app/file-server';
import { startBrowserServer } from '../../core/app/http-server';
import { createSettingsStore } from '../../core/app/settings';
import { defaultDataDir, ensureDemoLake } from '../../core/app/data-dir';
import { createSyncService } from '../../core/app/sync-service';
import { PACKAGE_ROOT, RENDERER_DIST } from '../../core/app/paths';
import { TidemarkError } from '../../core/errors';
import { createLocalStorage } from '../../core/storage/node/index';
import { parseCommandArgs, type CliRunner, type CliIo } from '../command';

/** Builds the renderer when its bundle is missing (first start from a fresh clone). */
function ensureRendererBuilt(io: CliIo) {
  if (existsSync(resolve(RENDERER_DIST, 'index.html'))) return;
  io.err('building the renderer (first start)…');
  const r = spawnSync(process.execPath, [resolve(PACKAGE_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new TidemarkError('Internal', `renderer build failed (exit ${r.status})`);
}

async function runServe(argv: string[], io: CliIo, name: string) {
  const { values, positionals } = parseCommandArgs(name, argv, { port: { type: 'string' }, 'no-demo': { type: 'boolean' } }, { min: 0, max: 1, names: ['warehouse'] });
  let port = 0;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TidemarkError('InvalidInput', `${name}: --port: expected 0..65535, got ${JSON.stringify(values.port)}`);
  }
  let warehouse = positionals[0] ? resolve(positionals[0]) : null;
  if (warehouse && !existsSync(warehouse)) throw new TidemarkError('NotFound', `warehouse folder not found: ${warehouse}`, { path: warehouse });
  if (!warehouse && !values['no-demo']) {
    warehouse = await ensureDemoLake(defaultDataDir());
    io.err(`no warehouse given: opening the demo lake at ${warehouse}`);
  }
  ensureRendererBuilt(io);
  const roots = new AllowedRoots();
  // Browser mode has no OS keychain: pipelines and profiles must reference secrets as env:NAME.
  const sync = createSyncService({ dataDir: defaultDataDir(), secrets: null });
  const profiles = createProfileStore({ dataDir: defaultDataDir(), secrets: null });
  const remote = createRemoteLakes({ local: createLocalStorage(), profiles });
  const storage = remote.storage;
  const settings = createSettingsStore({ dataDir: defaultDataDir() });
  const handlers = createHandlers({ storage, mode: 'browser', electronVersion: null, allowRoot: (p) => roots.add(p), initialWarehouse: warehouse, sync, remote, profiles, settings });
  const server = await startBrowserServer({ handlers, storage, roots, rendererDir: RENDERER_DIST, port });
  io.out(`Tidemark is running in browser mode: ${server.url}`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // Running pipelines commit what they buffered before the server goes.
      void sync.stopAll().finally(() => void server.close().then(done));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export const serveCommand: CliRunner = {
  run: (argv, io) => runServe(argv, io, 'serve'),
};

/** The path of the Electron binary, or null when the package was installed without it. */
export function findElectronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    // "Electron failed to install correctly": installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1.
    return null;
  }
}

export const startCommand: CliRunner = {
  async run(argv, io) {
    const electron = findElectronBinary();
    if (!electron) {
      io.err('Electron binary not installed (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1?): starting browser mode instead.');
      return runServe(argv, io, 'start');
    }
    const { positionals } = parseCommandArgs('start', argv, { port: { type: 'string' }, 'no-demo': { type: 'boolean' } }, { min: 0, max: 1, names: ['warehouse'] });
    ensureRendererBuilt(io);
    const build = spawnSync(process.execPath, [resolve(PACKAGE_ROOT, 'electron/build.mjs')], { cwd: PACKAGE_ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new TidemarkError('Internal', `electron build failed (exit ${build.status})`);
    const child = spawn(electron, [PACKAGE_ROOT, ...(positionals[0] ? [`--warehouse=${resolve(positionals[0])}`] : [])], { stdio: 'inherit' });
    return await new Promise<number>((done) => child.on('exit', (code) => done(code ?? 1)));
  },
};
