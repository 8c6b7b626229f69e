// Entry of the sink worker thread when Tidemark runs from its TypeScript sources (bin/tidemark,
// tsx, vitest): a worker does not inherit the parent's tsx hooks, so it registers its own before
// loading sink-worker.ts. The bundled Electron main ships sink-worker.mjs instead (electron/build.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./sink-worker.ts');
