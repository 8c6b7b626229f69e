// Entry of the sink worker thread when Tidemark runs from its TypeScript sources (bin/tidemark,
// tsx, vitest): a worker does not inherit the parent's tsx hooks, so it registers its own before
// loading sink-worker.ts. The bundled Electron main ships sink-worker.mjs instead (electron/build.mjs).
//
// The packages the write path uses are loaded first, natively: through tsx's hooks each of
// apache-arrow's ~200 module files costs a round trip to the hooks thread (the worker took ~0.5 s
// of CPU to start; ~0.25 s this way). A package missing from this list still loads, only slower.
await Promise.all([import('apache-arrow'), import('parquet-wasm'), import('avsc'), import('fzstd')]);
const { register } = await import('tsx/esm/api');

register();
await import('./sink-worker.ts');
