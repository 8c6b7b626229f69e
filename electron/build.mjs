// Bundles the main process and the preload script to CommonJS for Electron (the sandboxed preload
// must be a single CommonJS file; main bundles core/ so the app needs no TypeScript at run time).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['electron'], logLevel: 'warning', sourcemap: true };
await build({ ...common, entryPoints: ['electron/main.ts'], outfile: 'electron/dist/main.cjs' });
await build({ ...common, entryPoints: ['electron/preload.ts'], outfile: 'electron/dist/preload.cjs' });
