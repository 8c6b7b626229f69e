import { readdir, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sourceBundle } from '../../core/pipeline/thread/source-bundles.mjs';

// From the sources `tidemark`, the sync thread and the sink worker run as esbuild bundles built
// automatically (source-bundles.mjs): reused while no source file changed, built again when one
// did, the threads from one build, each module with its own import.meta.url, and off with
// TIDEMARK_SOURCE_BUNDLES=0.
const source = fileURLToPath(new URL('../../core/pipeline/thread/worker-argv.ts', import.meta.url));

/** The text of every file of the build `entry` belongs to: the entries share chunks (code splitting). */
async function readBuild(entry: URL): Promise<string> {
  const dir = fileURLToPath(new URL('.', entry));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.mjs'));
  return (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
}

describe('source bundles', () => {
  let restore: (() => Promise<void>) | null = null;
  afterEach(async () => {
    delete process.env.TIDEMARK_SOURCE_BUNDLES;
    await restore?.();
    restore = null;
  });

  it('are built once, beside each other, from the sources, without tsx; a changed source builds them again', async () => {
    const first = (await sourceBundle('pipeline-worker'))!;
    expect(first).not.toBeNull();
    const sink = (await sourceBundle('sink-worker'))!;
    expect(fileURLToPath(new URL('.', sink))).toBe(fileURLToPath(new URL('.', first)));
    const build = await readBuild(first);
    expect(build).not.toMatch(/from "tsx|import\("tsx/);
    // The sync thread starts the sink worker of its own build.
    expect(build).toContain(JSON.stringify(sink.href));
    // A module's import.meta.url is its source file's: the package root and createRequire resolve as from the sources.
    const cli = (await sourceBundle('cli'))!;
    expect(fileURLToPath(new URL('.', cli))).toBe(fileURLToPath(new URL('.', first)));
    expect(build).toContain(JSON.stringify(new URL('../../core/app/paths.ts', import.meta.url).href));
    expect(build).not.toContain('import.meta.url');
    // A command's module is a chunk of its own: `tidemark --help` does not load duckdb-wasm.
    expect(await readFile(cli, 'utf8')).not.toContain('@duckdb/duckdb-wasm');
    expect((await sourceBundle('pipeline-worker'))!.href).toBe(first.href);

    const before = await stat(source);
    restore = () => utimes(source, before.atime, before.mtime);
    await utimes(source, before.atime, new Date(before.mtimeMs - 10_000));
    const rebuilt = (await sourceBundle('pipeline-worker'))!;
    expect(rebuilt.href).not.toBe(first.href);
    expect(join(fileURLToPath(rebuilt), '..')).not.toBe(join(fileURLToPath(first), '..'));
  }, 60_000);

  it('are not used with TIDEMARK_SOURCE_BUNDLES=0', async () => {
    process.env.TIDEMARK_SOURCE_BUNDLES = '0';
    expect(await sourceBundle('sink-worker')).toBeNull();
  });
});
