/**
 * The sync manager behind the sync.* calls: pipelines are YAML files in the app's data folder
 * (`<data>/pipelines/<name>.yaml`); runs happen in this process (Electron main or the browser-mode
 * server), never in the renderer, and push their progress as events.
 *
 * Credentials are never stored in plain text: a literal `source.password` is moved into the secret
 * store (the OS keychain through Electron safeStorage) and the file keeps `${env:TIDEMARK_SECRET_…}`,
 * resolved only in memory when validating or running. Without a secret store (browser mode) a
 * literal password is refused with the `${env:NAME}` alternative.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { HandlerContext, PipelineEntry, PipelineValidation } from '../api';
import { createMySqlSource } from '../cdc';
import { TidemarkError } from '../errors';
import { loadPipelineConfig, planPipeline, runPipelineInThread, statusFilePath, toSourceConfig, validatePipeline, writeFileAtomic, type PipelineConfig, type SyncProgress } from '../pipeline';

export interface SecretStore {
  save(key: string, value: string): Promise<void>;
  /** The stored value, or null. */
  load(key: string): Promise<string | null>;
  remove(key: string): Promise<void>;
}

export interface SyncServiceDeps {
  dataDir: string;
  secrets: SecretStore | null;
  env?: Record<string, string | undefined>;
}

const ENV_REF = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;

/** The environment variable a pipeline's stored password is exposed as (in memory only). */
export function secretEnvName(pipeline: string): string {
  return `TIDEMARK_SECRET_${pipeline.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

interface Run {
  abort: AbortController;
  progress: SyncProgress | null;
  done: Promise<void>;
}

export function createSyncService(deps: SyncServiceDeps) {
  const dir = join(deps.dataDir, 'pipelines');
  const runs = new Map<string, Run>();
  const fileOf = (name: string) => join(dir, `${name}.yaml`);

  async function envFor(name: string): Promise<Record<string, string | undefined>> {
    const env = { ...(deps.env ?? process.env) };
    const secret = deps.secrets ? await deps.secrets.load(secretEnvName(name)) : null;
    if (secret !== null) env[secretEnvName(name)] = secret;
    return env;
  }

  function toValidation(result: ReturnType<typeof validatePipeline>): PipelineValidation {
    const issue = (i: { code: string; line: number; path: string; message: string }) => ({ code: i.code, line: i.line, path: i.path, message: i.message });
    return { ok: result.config !== null, errors: result.errors.map(issue), warnings: result.warnings.map(issue) };
  }

  async function readText(name: string): Promise<string> {
    try {
      return await readFile(fileOf(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TidemarkError('NotFound', `pipeline ${name} not found (${fileOf(name)})`, { pipeline: name });
      throw e;
    }
  }

  async function loadConfig(name: string): Promise<PipelineConfig> {
    return loadPipelineConfig(await readText(name), { fileName: `${name}.yaml`, env: await envFor(name), baseDir: dir }).config;
  }

  async function readStatusFile(config: PipelineConfig): Promise<SyncProgress | null> {
    try {
      return JSON.parse(await readFile(statusFilePath(config), 'utf8')) as SyncProgress;
    } catch {
      return null;
    }
  }

  return {
    async list(): Promise<PipelineEntry[]> {
      await mkdir(dir, { recursive: true });
      const names = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
      return Promise.all(
        names.map(async (name) => {
          const run = runs.get(name);
          let status = run?.progress ?? null;
          if (!status) status = await loadConfig(name).then(readStatusFile, () => null);
          return { name, file: fileOf(name), running: run !== undefined, status };
        }),
      );
    },

    async read(name: string) {
      return { name, file: fileOf(name), yaml: await readText(name) };
    },

    async save(name: string, yaml: string) {
      const doc = parseDocument(yaml);
      const password = doc.getIn(['source', 'password']);
      if (typeof password === 'string' && password !== '' && !ENV_REF.test(password)) {
        if (!deps.secrets) {
          throw new TidemarkError('InvalidInput', 'source.password: plain-text passwords are not stored here; write ${env:NAME} and set NAME in the environment of tidemark serve', { pipeline: name });
        }
        await deps.secrets.save(secretEnvName(name), password);
        doc.setIn(['source', 'password'], `\${env:${secretEnvName(name)}}`);
      }
      const text = doc.toString();
      // A crash never leaves a half-written pipeline file; a full disk names the file.
      await writeFileAtomic(fileOf(name), text);
      const validation = toValidation(validatePipeline(text, { fileName: `${name}.yaml`, env: await envFor(name), baseDir: dir }));
      return { name, file: fileOf(name), validation };
    },

    async remove(name: string) {
      if (runs.has(name)) throw new TidemarkError('InvalidInput', `pipeline ${name} is running: stop it first`, { pipeline: name });
      await rm(fileOf(name), { force: true });
      await deps.secrets?.remove(secretEnvName(name));
      return { name };
    },

    async validate(yaml: string, name = 'pipeline') {
      return toValidation(validatePipeline(yaml, { fileName: `${name}.yaml`, env: await envFor(name), baseDir: dir }));
    },

    async testConnection(name: string) {
      return createMySqlSource(toSourceConfig(await loadConfig(name))).preflight();
    },

    async plan(name: string) {
      return planPipeline(await loadConfig(name));
    },

    async start(name: string, untilCaughtUp: boolean, ctx: HandlerContext) {
      if (runs.has(name)) throw new TidemarkError('InvalidInput', `pipeline ${name} is already running`, { pipeline: name });
      const config = await loadConfig(name);
      const abort = new AbortController();
      const run: Run = { abort, progress: null, done: Promise.resolve() };
      runs.set(name, run);
      // In the sync thread (pipeline-thread.ts): the app's main thread stays free for IPC.
      run.done = runPipelineInThread({
        config,
        untilCaughtUp,
        signal: abort.signal,
        onEvent: (event) => {
          if (event.type === 'sync.progress') {
            run.progress = event.payload;
            ctx.emit('sync.progress', event.payload);
          } else {
            const message = event.type === 'sync.commit'
              ? `${event.payload.table}: committed ${event.payload.rows} rows as snapshot ${event.payload.snapshotId} at ${event.payload.position}`
              : event.type === 'sync.schema-change'
                ? `${event.payload.table}: ${event.payload.ddl} → ${event.payload.notes.join('; ')}`
                : event.payload.message;
            ctx.emit('sync.event', { pipeline: name, type: event.type, message });
          }
        },
      }).then(
        () => ctx.emit('sync.event', { pipeline: name, type: 'sync.stopped', message: `${name} stopped` }),
        (e: unknown) => ctx.emit('sync.event', { pipeline: name, type: 'sync.failed', message: e instanceof Error ? e.message : String(e) }),
      ).finally(() => runs.delete(name));
      return { name, started: true };
    },

    async stop(name: string) {
      const run = runs.get(name);
      if (!run) return { name, stopped: false };
      run.abort.abort();
      await run.done;
      return { name, stopped: true };
    },

    async status(name: string) {
      return runs.get(name)?.progress ?? (await readStatusFile(await loadConfig(name)));
    },

    /** Stops every run (app shutdown): each commits what it buffered. */
    async stopAll() {
      await Promise.all([...runs.keys()].map((n) => this.stop(n)));
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
