// Entry of the sink worker thread when the sync thread runs from the TypeScript sources (tsx,
// vitest: sink-thread.ts started in-process); the bundled Electron main ships sink-worker.mjs
// instead (electron/build.mjs), and so does the sync thread's own bundle (source-bundles.mjs). From
// the sources the worker loads that bundle when it can be had; else it registers tsx's hooks (a
// worker does not inherit the parent's) and loads sink-worker.ts.
//
// On the tsx path the packages the write path uses are loaded first, natively: through tsx's hooks
// each of apache-arrow's ~200 module files costs a round trip to the hooks thread (the worker took
// ~0.5 s of CPU to start; ~0.25 s this way). A package missing from this list still loads, only slower.
import { sourceBundle } from './source-bundles.mjs';

const bundle = await sourceBundle('sink-worker');
if (bundle) await import(bundle.href);
else {
  await Promise.all([import('apache-arrow'), import('parquet-wasm'), import('avsc'), import('fzstd')]);
  const { register } = await import('tsx/esm/api');
  register();
  await import('./sink-worker.ts');
}
