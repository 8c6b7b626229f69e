/** See worker-bundle.mjs: the bundled thread `name` as a file URL, or null (load the sources through tsx). */
export function bundledWorker(name: 'pipeline-worker' | 'sink-worker'): Promise<URL | null>;
