import { readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledWorker } from '../../core/pipeline/worker-bundle.mjs';

// From the sources the sync thread and the sink worker run as esbuild bundles built automatically
// (worker-bundle.mjs): reused while no source file changed, built again when one did, both threads
// from one build, and off with TIDEMARK_WORKER_BUNDLE=0.
const source = fileURLToPath(new URL('../../core/pipeline/worker-argv.ts', import.meta.url));

describe('worker bundles', () => {
  let restore: (() => Promise<void>) | null = null;
  afterEach(async () => {
    delete process.env.TIDEMARK_WORKER_BUNDLE;
    await restore?.();
    restore = null;
  });

  it('are built once, beside each other, from the sources, without tsx; a changed source builds them again', async () => {
    const first = (await bundledWorker('pipeline-worker'))!;
    expect(first).not.toBeNull();
    const sink = (await bundledWorker('sink-worker'))!;
    expect(fileURLToPath(new URL('.', sink))).toBe(fileURLToPath(new URL('.', first)));
    for (const url of [first, sink]) expect(await readFile(url, 'utf8')).not.toMatch(/from "tsx|import\("tsx/);
    // The sync thread starts the sink worker from the file beside its own.
    expect(await readFile(first, 'utf8')).toContain('"./sink-worker.mjs"');
    expect((await bundledWorker('pipeline-worker'))!.href).toBe(first.href);

    const before = await stat(source);
    restore = () => utimes(source, before.atime, before.mtime);
    await utimes(source, before.atime, new Date(before.mtimeMs - 10_000));
    const rebuilt = (await bundledWorker('pipeline-worker'))!;
    expect(rebuilt.href).not.toBe(first.href);
    expect(join(fileURLToPath(rebuilt), '..')).not.toBe(join(fileURLToPath(first), '..'));
  }, 60_000);

  it('are not used with TIDEMARK_WORKER_BUNDLE=0', async () => {
    process.env.TIDEMARK_WORKER_BUNDLE = '0';
    expect(await bundledWorker('sink-worker')).toBeNull();
  });
});
