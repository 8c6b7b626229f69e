// Bundles the Electron entry points. Main is ESM (Electron ≥ 28) with packages left external so
// that wasm-backed and ESM-only dependencies (duckdb-wasm, parquet-wasm, zongji) load from
// node_modules as in Node; the sandboxed preload must be one CommonJS file with only `electron`.
// The sync thread (core/pipeline/thread/pipeline-thread.ts) and the sink worker thread it starts
// (core/pipeline/thread/sink-thread.ts) are entries of their own beside main.mjs: `TIDEMARK_PIPELINE_WORKER`
// and `TIDEMARK_SINK_WORKER` tell the bundles where they are (from the sources they are started
// through tsx instead).
//
// TIDEMARK_ELECTRON_OUT=dir writes the bundles there instead of electron/dist (the test of the
// bundled sink worker builds into a folder of its own).
import { build } from 'esbuild';

const out = process.env.TIDEMARK_ELECTRON_OUT ?? 'electron/dist';

const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', sourcemap: true };
const define = { TIDEMARK_SINK_WORKER: JSON.stringify('./sink-worker.mjs'), TIDEMARK_PIPELINE_WORKER: JSON.stringify('./pipeline-worker.mjs') };
await build({ ...common, format: 'esm', packages: 'external', entryPoints: ['electron/main.ts'], outfile: `${out}/main.mjs`, define });
await build({ ...common, format: 'esm', packages: 'external', entryPoints: ['core/pipeline/thread/pipeline-worker.ts'], outfile: `${out}/pipeline-worker.mjs`, define });
await build({ ...common, format: 'esm', packages: 'external', entryPoints: ['core/pipeline/thread/sink-worker.ts'], outfile: `${out}/sink-worker.mjs` });
await build({ ...common, format: 'cjs', external: ['electron'], entryPoints: ['electron/preload.ts'], outfile: `${out}/preload.cjs` });
