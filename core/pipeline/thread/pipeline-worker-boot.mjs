// Entry of the sync thread (pipeline-thread.ts) when Tidemark runs from its TypeScript sources
// (bin/tidemark, tsx, vitest). The bundled Electron main ships pipeline-worker.mjs instead
// (electron/build.mjs). From the sources the thread loads the same kind of bundle, built
// automatically (source-bundles.mjs; its sink worker is the sink-worker.mjs beside it); only when no
// bundle can be had does it register tsx's hooks (a worker does not inherit the parent's) and load
// pipeline-worker.ts, the binlog reader's packages first, natively (through tsx's hooks each module
// file costs a round trip to its thread).
import { sourceBundle } from './source-bundles.mjs';

const bundle = await sourceBundle('pipeline-worker');
if (bundle) await import(bundle.href);
else {
  await Promise.all([import('@vlasky/zongji'), import('mysql2/promise')]);
  const { register } = await import('tsx/esm/api');
  register();
  await import('./pipeline-worker.ts');
}
