// The `tidemark` command (bin/tidemark), the sync thread and the sink worker as esbuild bundles,
// built automatically from the sources and kept under node_modules/.cache/tidemark-bundles (no
// build step: the first run after a change of any of their source files builds them again, in
// ~0.5–1 s). Through tsx each of the three isolates registered its own loader hooks and sent every
// module file (~300 of ours for the CLI, ~100 for a thread, ~200 of apache-arrow's) through them:
// `tidemark --help` took 2.3–2.4 s of CPU from the sources against 1.0–1.1 s bundled, and each
// thread ~1–1.5 s before it did anything (docs/perf-notes.md "Full sync speed, second pass").
//
// Plain JavaScript: it runs before anything can load TypeScript. Any failure (no esbuild, a
// read-only node_modules, a source that does not bundle) returns null and the callers fall back to
// tsx. Every module keeps its own `import.meta.url` (replaced by its source file's URL at build
// time), so paths it resolves from it (the package root, createRequire) are those of the sources.
//
// Each build goes into a folder of its own, named in current.json with the source files it read
// and their mtimes and sizes: a reader checks them all (a few ms) and uses the folder only when
// none changed, so a thread and the sink worker it starts always come from one build.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// Under node_modules so that the bundles' external packages resolve from them as from the sources.
const CACHE = join(ROOT, 'node_modules', '.cache', 'tidemark-bundles');
const ENTRIES = { cli: 'cli/main.ts', 'pipeline-worker': 'core/pipeline/thread/pipeline-worker.ts', 'sink-worker': 'core/pipeline/thread/sink-worker.ts' };
/** Builds older than this, other than the current one, are removed when a new one is made. */
const KEEP_OLD_BUILDS_MS = 60 * 60 * 1000;

function readCurrent() {
  try {
    const current = JSON.parse(readFileSync(join(CACHE, 'current.json'), 'utf8'));
    for (const [file, [mtimeMs, size]] of Object.entries(current.inputs)) {
      const s = statSync(join(ROOT, file));
      if (s.mtimeMs !== mtimeMs || s.size !== size) return null;
    }
    for (const name of Object.keys(ENTRIES)) statSync(join(CACHE, current.id, `${name}.mjs`));
    return current;
  } catch {
    return null;
  }
}

/** esbuild plugin: `import.meta.url` in each of our TypeScript files becomes that file's own URL. */
const sourceUrls = {
  name: 'tidemark-source-urls',
  setup(build) {
    build.onLoad({ filter: /\.tsx?$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
    });
  },
};

async function buildBundles() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  const startedAt = Date.now();
  const id = `${startedAt.toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const outdir = join(CACHE, id);
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    // Code splitting: a dynamic import (cli/commands/index.ts loads each command's module when it
    // runs) becomes a chunk of its own, so the packages it imports load only then.
    splitting: true,
    metafile: true,
    logLevel: 'silent',
    // As electron/build.mjs, each thread starts the next from the files of this build (absolute:
    // import.meta.url is the source file's, see sourceUrls).
    define: {
      TIDEMARK_SINK_WORKER: JSON.stringify(pathToFileURL(join(outdir, 'sink-worker.mjs')).href),
      TIDEMARK_PIPELINE_WORKER: JSON.stringify(pathToFileURL(join(outdir, 'pipeline-worker.mjs')).href),
    },
    plugins: [sourceUrls],
  });
  const inputs = {};
  let changedMeanwhile = false;
  for (const file of Object.keys(result.metafile.inputs)) {
    const s = statSync(join(ROOT, file));
    inputs[file] = [s.mtimeMs, s.size];
    // Edited while esbuild read it: the bundle may hold either version, so it is not recorded.
    if (s.mtimeMs >= startedAt) changedMeanwhile = true;
  }
  if (!changedMeanwhile) {
    const tmp = join(CACHE, `current.json.${id}`);
    writeFileSync(tmp, JSON.stringify({ id, inputs }));
    renameSync(tmp, join(CACHE, 'current.json'));
    for (const old of readdirSync(CACHE, { withFileTypes: true })) {
      if (!old.isDirectory() || old.name === id) continue;
      const path = join(CACHE, old.name);
      if (Date.now() - statSync(path).mtimeMs > KEEP_OLD_BUILDS_MS) rmSync(path, { recursive: true, force: true });
    }
  }
  return { id };
}

/**
 * The file URL of the bundled `name` (a key of ENTRIES), built now when any of its sources changed
 * since the last build; null when it cannot be had (the caller then loads the sources through tsx).
 * TIDEMARK_SOURCE_BUNDLES=0 turns bundles off (a stack trace with TypeScript lines, say).
 */
export async function sourceBundle(name) {
  if (process.env.TIDEMARK_SOURCE_BUNDLES === '0') return null;
  try {
    let current = readCurrent();
    if (!current) {
      mkdirSync(CACHE, { recursive: true });
      current = await buildBundles();
    }
    return current ? pathToFileURL(join(CACHE, current.id, `${name}.mjs`)) : null;
  } catch (e) {
    // Not fatal (the sources run through tsx), but said when asked: a bundle that no longer builds.
    if (process.env.TIDEMARK_DEBUG) process.emitWarning(`source bundle not used: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}
