/** See source-bundles.mjs: the bundled `name` as a file URL, or null (load the sources through tsx). */
export function sourceBundle(name: 'cli' | 'pipeline-worker' | 'sink-worker'): Promise<URL | null>;
