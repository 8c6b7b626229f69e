// Entry of the sync thread (pipeline-thread.ts) when Tidemark runs from its TypeScript sources
// (bin/tidemark, tsx, vitest): a worker does not inherit the parent's tsx hooks, so it registers
// its own before loading pipeline-worker.ts. The bundled Electron main ships pipeline-worker.mjs
// instead (electron/build.mjs). The binlog reader's packages load natively first (as in
// sink-worker-boot.mjs: through tsx's hooks each module file costs a round trip to its thread).
await Promise.all([import('@vlasky/zongji'), import('mysql2/promise')]);
const { register } = await import('tsx/esm/api');

register();
await import('./pipeline-worker.ts');
