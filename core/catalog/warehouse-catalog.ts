import { mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TidemarkError, toWriteError } from '../errors';
import { detectTableFormat, loadTable, normalizeLocation, parseJsonBigint, writeTableMetadata, type TableMetadata } from '../lake';
import { childPath, commitTable, defaultWriteEnv, publishFirstVersion, tableRoot, type WriteEnv } from '../lake/write';
import { listSubfolders, type WritableStorage } from '../storage';
import { createLocalWritableStorage } from '../storage/node';
import { isS3Url } from '../storage/s3/index';
import { applyUpdates, checkRequirements, emptyMetadata } from './table-changes';
import { checkName, createTableRequest, parseTableUpdate, parseWire, tableRequirement, tableUpdate } from './rest-types';

/**
 * A Tidemark warehouse folder seen as an Iceberg catalog: `<warehouse>/<ns>[/<ns>…]/<table>`, a
 * namespace level being a folder named `<level>` or `<level>.db` (as core/lake/warehouse.ts reads
 * it), a table an Iceberg table root below at least one namespace. Namespace properties live in a
 * hidden `.tidemark-namespace.json` in the namespace folder (the warehouse walk skips hidden names).
 * Every table commit goes through core/lake/write's commitTable: the next `v<N>.metadata.json` is
 * published with an exclusive create, so this catalog and a running sync never both win a version.
 * The warehouse is a local folder or an `s3://bucket/prefix` (then `env.storage` is that store):
 * an object store has no empty folders, so a namespace there always holds its properties file.
 */
const PROPERTIES_FILE = '.tidemark-namespace.json';

export interface LoadedTableResult {
  metadataLocation: string;
  /** The metadata file's JSON, as stored (64-bit ids as bigint). */
  metadata: unknown;
}

export class WarehouseCatalog {
  readonly root: string;
  /** True for an `s3://` warehouse. */
  readonly remote: boolean;
  private readonly storage: WritableStorage;
  private readonly env: WriteEnv;

  constructor(warehouse: string, env: WriteEnv = defaultWriteEnv) {
    this.remote = isS3Url(warehouse);
    this.root = this.remote ? tableRoot(warehouse) : resolve(warehouse);
    if (this.remote && !env.storage) throw new TidemarkError('InvalidInput', `warehouse ${this.root}: an s3:// warehouse needs its S3 storage`, { path: this.root });
    this.storage = this.remote ? env.storage! : createLocalWritableStorage();
    this.env = env;
  }

  /** The warehouse must be a folder and not itself a table root (its metadata/ would pass for a namespace). */
  async checkRoot(): Promise<void> {
    // An empty s3:// prefix is a warehouse with no namespace yet; listing it now makes a missing
    // bucket, refused keys or an unreachable endpoint fail at start, naming the store.
    if (this.remote) await this.listNamespaces();
    else if (!(await this.isDir(this.root))) throw new TidemarkError('NotFound', `warehouse folder not found: ${this.root}`, { path: this.root });
    const format = await detectTableFormat(this.storage, this.root);
    if (format) throw new TidemarkError('InvalidInput', `${this.root} is an ${format === 'iceberg' ? 'Iceberg' : 'Paimon'} table, not a warehouse: serve the folder that holds its namespace`, { path: this.root });
  }

  private async isDir(path: string): Promise<boolean> {
    if (!this.remote) return (await stat(path).catch(() => null))?.isDirectory() ?? false;
    // A prefix with keys below it; a file at that key is not a folder. A delimited listing may come
    // back empty for a folder holding only folders (s3rver 3.7: a namespace of tables): then its
    // sub-folders are looked for from its keys.
    const listed = await this.storage.list(path).then(
      () => true,
      (e: unknown) => {
        if (e instanceof TidemarkError && e.code === 'NotFound') return false;
        throw e;
      },
    );
    return listed || (await listSubfolders(this.storage, path)).length > 0;
  }

  /** The folder of an existing namespace, or null. */
  private async findNamespace(ns: string[]): Promise<string | null> {
    let dir = this.root;
    for (const level of ns) {
      checkName(level, 'namespace level');
      const plain = childPath(dir, level);
      const db = childPath(dir, `${level}.db`);
      if (await this.isDir(plain)) dir = plain;
      else if (await this.isDir(db)) dir = db;
      else return null;
      if (await detectTableFormat(this.storage, dir)) return null;
    }
    return dir;
  }

  private async requireNamespace(ns: string[]): Promise<string> {
    const dir = ns.length === 0 ? null : await this.findNamespace(ns);
    if (!dir) throw new TidemarkError('NotFound', `namespace ${ns.join('.')} does not exist in ${this.root}`, { namespace: ns.join('.'), restType: 'NoSuchNamespaceException' });
    return dir;
  }

  /** Child folders of `dir` that are namespaces (visible, not tables) and the Iceberg tables in it. */
  private async children(dir: string): Promise<{ namespaces: string[]; tables: string[]; other: number }> {
    const folders = await listSubfolders(this.storage, dir).catch((e: unknown) => {
      // An s3:// warehouse with no object yet lists as NotFound: it is empty (a missing bucket is not).
      if (this.remote && dir === this.root && e instanceof TidemarkError && e.code === 'NotFound' && e.context.s3Code !== 'NoSuchBucket') return [];
      throw e;
    });
    const out = { namespaces: [] as string[], tables: [] as string[], other: 0 };
    for (const name of folders) {
      if (name.startsWith('.')) continue;
      const format = await detectTableFormat(this.storage, childPath(dir, name));
      if (format === 'iceberg') out.tables.push(name);
      else if (format === null) out.namespaces.push(name.replace(/\.db$/, ''));
      else out.other++;
    }
    out.namespaces.sort();
    out.tables.sort();
    return out;
  }

  async listNamespaces(parent: string[] = []): Promise<string[][]> {
    const dir = parent.length === 0 ? this.root : await this.requireNamespace(parent);
    return (await this.children(dir)).namespaces.map((n) => [...parent, n]);
  }

  async createNamespace(ns: string[], properties: Record<string, string> = {}): Promise<{ namespace: string[]; properties: Record<string, string> }> {
    ns.forEach((l) => checkName(l, 'namespace level'));
    if (await this.findNamespace(ns)) {
      throw new TidemarkError('InvalidInput', `namespace ${ns.join('.')} already exists in ${this.root}`, { namespace: ns.join('.'), restType: 'AlreadyExistsException' });
    }
    if (ns.length > 1) await this.requireNamespace(ns.slice(0, -1));
    const parent = ns.length > 1 ? (await this.findNamespace(ns.slice(0, -1)))! : this.root;
    const dir = childPath(parent, ns[ns.length - 1]!);
    if (!this.remote) {
      await mkdir(dir, { recursive: true }).catch((e: unknown) => {
        throw toWriteError(e, dir, 'create folder');
      });
    }
    if (this.remote || Object.keys(properties).length > 0) await this.writeProperties(dir, properties);
    return { namespace: ns, properties };
  }

  private async readProperties(dir: string): Promise<Record<string, string>> {
    const path = childPath(dir, PROPERTIES_FILE);
    const bytes = await this.storage.readFile(path).catch((e: unknown) => {
      if (e instanceof TidemarkError && e.code === 'NotFound') return null;
      throw e;
    });
    if (bytes === null) return {};
    const text = new TextDecoder().decode(bytes);
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TidemarkError('DataInvalid', `${path}: expected a JSON object of namespace properties`, { path });
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }

  private async writeProperties(dir: string, properties: Record<string, string>): Promise<void> {
    // A whole replace: a temp file renamed on disk, one PUT on S3.
    await this.storage.writeFile(childPath(dir, PROPERTIES_FILE), JSON.stringify(properties, null, 2));
  }

  async loadNamespace(ns: string[]): Promise<{ namespace: string[]; properties: Record<string, string> }> {
    return { namespace: ns, properties: await this.readProperties(await this.requireNamespace(ns)) };
  }

  async updateNamespaceProperties(ns: string[], updates: Record<string, string>, removals: string[]): Promise<{ updated: string[]; removed: string[]; missing: string[] }> {
    const both = removals.filter((k) => k in updates);
    if (both.length > 0) throw new TidemarkError('InvalidInput', `namespace ${ns.join('.')}: properties both updated and removed: ${both.join(', ')}`, { namespace: ns.join('.') });
    const dir = await this.requireNamespace(ns);
    const props = await this.readProperties(dir);
    const removed = removals.filter((k) => k in props);
    const missing = removals.filter((k) => !(k in props));
    for (const k of removed) delete props[k];
    Object.assign(props, updates);
    await this.writeProperties(dir, props);
    return { updated: Object.keys(updates), removed, missing };
  }

  /** Drops an empty namespace; one holding tables or namespaces (or Paimon tables) is refused. */
  async dropNamespace(ns: string[]): Promise<void> {
    const dir = await this.requireNamespace(ns);
    const c = await this.children(dir);
    if (c.tables.length + c.namespaces.length + c.other > 0) {
      throw new TidemarkError('InvalidInput', `namespace ${ns.join('.')} is not empty: it holds ${[...c.namespaces.map((n) => `namespace ${n}`), ...c.tables.map((t) => `table ${t}`)].join(', ') || `${c.other} Paimon table(s)`}`, { namespace: ns.join('.'), restType: 'NamespaceNotEmptyException' });
    }
    if (this.remote) {
      const left = (await this.storage.listRecursive(dir)).filter((f) => f.path !== childPath(dir, PROPERTIES_FILE));
      if (left.length > 0) throw new TidemarkError('InvalidInput', `namespace ${ns.join('.')} is not empty: ${dir} holds ${left[0]!.path}`, { namespace: ns.join('.'), restType: 'NamespaceNotEmptyException' });
      await this.storage.delete(childPath(dir, PROPERTIES_FILE));
      return;
    }
    await this.storage.delete(childPath(dir, PROPERTIES_FILE));
    await rmdir(dir).catch((e: unknown) => {
      throw new TidemarkError('InvalidInput', `namespace ${ns.join('.')} is not empty: ${dir} holds files`, { namespace: ns.join('.'), restType: 'NamespaceNotEmptyException' }, e);
    });
  }

  async listTables(ns: string[]): Promise<string[]> {
    return (await this.children(await this.requireNamespace(ns))).tables;
  }

  private async tableRoot(ns: string[], name: string): Promise<string> {
    checkName(name, 'table name');
    return childPath(await this.requireNamespace(ns), name);
  }

  private noTable(ns: string[], name: string): TidemarkError {
    return new TidemarkError('NotFound', `table ${[...ns, name].join('.')} does not exist in ${this.root}`, { table: [...ns, name].join('.'), restType: 'NoSuchTableException' });
  }

  private async existingTable(ns: string[], name: string): Promise<string> {
    const root = await this.tableRoot(ns, name);
    if ((await detectTableFormat(this.storage, root)) !== 'iceberg') throw this.noTable(ns, name);
    return root;
  }

  async loadTable(ns: string[], name: string): Promise<LoadedTableResult> {
    const root = await this.existingTable(ns, name);
    const t = await loadTable(this.storage, root);
    return { metadataLocation: t.metadataFile, metadata: parseJsonBigint(new TextDecoder().decode(await this.storage.readFile(t.metadataFile))) };
  }

  /**
   * Creates a table (CreateTableRequest). Field ids are kept as the client assigned them (they must
   * be unique); the location is the table's folder in the warehouse. With `stage-create` nothing is
   * written: the metadata is returned and a commit with assert-create creates the table.
   */
  async createTable(ns: string[], body: unknown): Promise<LoadedTableResult | { metadataLocation: null; metadata: unknown }> {
    const req = parseWire(createTableRequest, body, 'CreateTableRequest');
    const root = await this.tableRoot(ns, req.name);
    const id = [...ns, req.name].join('.');
    if (req.location && normalizeLocation(this.remote ? tableRoot(req.location) : resolve(req.location.replace(/^file:(\/\/)?/, ''))) !== normalizeLocation(root)) {
      throw new TidemarkError('Unsupported', `table ${id}: location ${req.location} is not allowed: tables of this warehouse live at ${root}`, { table: id, feature: 'table location' });
    }
    if (await detectTableFormat(this.storage, root)) throw new TidemarkError('InvalidInput', `table ${id} already exists at ${root}`, { table: id, restType: 'AlreadyExistsException' });
    const updates = [
      { action: 'add-schema', schema: req.schema },
      { action: 'set-current-schema', 'schema-id': -1 },
      { action: 'add-spec', spec: { 'spec-id': 0, fields: [], ...req['partition-spec'] } },
      { action: 'set-default-spec', 'spec-id': -1 },
      { action: 'add-sort-order', 'sort-order': { 'order-id': 0, fields: [], ...req['write-order'] } },
      { action: 'set-default-sort-order', 'sort-order-id': -1 },
      { action: 'set-properties', updates: { 'write.format.default': 'parquet', ...req.properties } },
    ].map((u, i) => parseWire(tableUpdate, u, `CreateTableRequest (as update ${i})`));
    const now = this.env.now();
    const metadata = applyUpdates(id, emptyMetadata(root, this.env.uuid(), now), updates, now);
    if (req['stage-create']) return { metadataLocation: null, metadata: parseJsonBigint(writeTableMetadata(metadata)) };
    const file = await publishFirstVersion(root, metadata, this.env).catch((e: unknown) => {
      if (e instanceof TidemarkError && e.code === 'CommitConflict') throw new TidemarkError('InvalidInput', `table ${id} already exists at ${root}`, { table: id, restType: 'AlreadyExistsException' });
      throw e;
    });
    return { metadataLocation: file, metadata: parseJsonBigint(writeTableMetadata(metadata)) };
  }

  /**
   * Commits requirements and updates to a table (CommitTableRequest). The requirements are checked
   * against the latest committed metadata on every attempt of commitTable: after a lost publish race
   * they are checked again against the winner's version, so a stale assert-ref-snapshot-id fails
   * (CommitConflict, nothing written) rather than overwriting the winner. A table that does not
   * exist is created when the commit asserts assert-create (a staged create).
   */
  async commitTable(ns: string[], name: string, requirementsJson: unknown[], updatesJson: unknown[]): Promise<LoadedTableResult> {
    const requirements = requirementsJson.map((q, i) => parseWire(tableRequirement, q, `requirements[${i}]`));
    const updates = updatesJson.map((u, i) => parseTableUpdate(u, `updates[${i}]`));
    const root = await this.tableRoot(ns, name);
    const id = [...ns, name].join('.');
    if ((await detectTableFormat(this.storage, root)) !== 'iceberg') {
      if (!requirements.some((q) => q.type === 'assert-create')) throw this.noTable(ns, name);
      checkRequirements(id, null, requirements);
      const now = this.env.now();
      const metadata = applyUpdates(id, emptyMetadata(root, this.env.uuid(), now), updates, now);
      const file = await publishFirstVersion(root, metadata, this.env);
      return { metadataLocation: file, metadata: parseJsonBigint(writeTableMetadata(metadata)) };
    }
    const out = await commitTable(
      root,
      async (base) => {
        checkRequirements(id, base.metadata, requirements);
        return applyUpdates(id, base.metadata, updates, this.env.now()) satisfies TableMetadata;
      },
      this.env,
    );
    return { metadataLocation: out.metadataFile, metadata: parseJsonBigint(writeTableMetadata(out.metadata)) };
  }

  /** Drops a table as Iceberg's HadoopCatalog does: its folder goes, data and metadata. */
  async dropTable(ns: string[], name: string): Promise<void> {
    const root = await this.existingTable(ns, name);
    if (this.remote) {
      // Metadata first: once it is gone the table is gone for readers, whatever deletes fail after.
      const files = await this.storage.listRecursive(root);
      const metadataFirst = [...files.filter((f) => f.path.startsWith(`${root}/metadata/`)), ...files.filter((f) => !f.path.startsWith(`${root}/metadata/`))];
      for (const f of metadataFirst) await this.storage.delete(f.path);
      return;
    }
    await rm(root, { recursive: true }).catch((e: unknown) => {
      throw toWriteError(e, root, 'remove');
    });
  }
}
