import { TidemarkError } from '../errors';
import { listSubfolders, type StoragePort } from '../storage';

export type TableFormat = 'iceberg' | 'paimon';

export interface WarehouseTable {
  /** Namespace path relative to the warehouse, nested levels joined by '.' ('' at the root). */
  namespace: string;
  name: string;
  /** Table root path. */
  path: string;
  format: TableFormat;
}

/** Deepest namespace nesting searched below a warehouse root. */
const MAX_NAMESPACE_DEPTH = 4;

/**
 * `fallback` when `e` says the folder is not there (NotFound, or a file where a folder was looked
 * for); any other failure (a store refusing access, a server error) is rethrown: a table the store
 * will not show must not silently drop out of a listing, nor read as "not a table".
 */
function absentAs<T>(fallback: T): (e: unknown) => T {
  return (e) => {
    if (e instanceof TidemarkError && (e.code === 'NotFound' || e.context.errno === 'ENOTDIR')) return fallback;
    throw e;
  };
}

function join(a: string, b: string): string {
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

/**
 * Detects the format of a table root: Iceberg has `metadata/` holding `*.metadata.json`
 * (or a `version-hint.text`); Paimon has `schema/` with a `schema-N` file (and `snapshot/` once
 * committed to). Returns null for anything else.
 */
export async function detectTableFormat(storage: StoragePort, path: string): Promise<TableFormat | null> {
  // metadata/ first: an Iceberg table, by far the most found, then costs one listing.
  const meta = await storage.list(join(path, 'metadata')).catch(absentAs(null));
  if (meta?.some((e) => e.kind === 'file' && (e.name.endsWith('.metadata.json') || e.name === 'version-hint.text'))) return 'iceberg';
  const entries = await storage.list(path).catch(absentAs(null));
  if (!entries) return null;
  const dirs = new Set(entries.filter((e) => e.kind === 'directory').map((e) => e.name));
  if (dirs.has('snapshot') && dirs.has('schema')) return 'paimon';
  // A Paimon table created but not yet committed to (Java's catalog lists it too): schema-0 only.
  if (dirs.has('schema')) {
    const schemas = await storage.list(join(path, 'schema')).catch(absentAs([]));
    if (schemas.some((e) => e.kind === 'file' && /^schema-\d+$/.test(e.name))) return 'paimon';
  }
  return null;
}

/** The format of a table root, or NotFound naming the path when it is neither Iceberg nor Paimon. */
export async function requireTableFormat(storage: StoragePort, path: string): Promise<TableFormat> {
  const format = await detectTableFormat(storage, path);
  if (!format) throw new TidemarkError('NotFound', `not an Iceberg or Paimon table: ${path}`, { path });
  return format;
}

/**
 * Lists the table roots of a warehouse: `<warehouse>/<ns>[/<ns>…]/<table>`. A folder that is itself
 * a table root is listed with an empty namespace (a single table opened directly). Folders are
 * found with `listSubfolders`, so on an object store a namespace holding only table folders is
 * found too (a delimited listing may leave it out).
 */
export async function listWarehouseTables(storage: StoragePort, warehouse: string): Promise<WarehouseTable[]> {
  const root = warehouse.length > 1 ? warehouse.replace(/\/+$/, '') : warehouse;
  const info = await storage.stat(root);
  if (!info) throw new TidemarkError('NotFound', `warehouse folder not found: ${root}`, { path: root });
  const rootFolders = await listSubfolders(storage, root).catch((e: unknown) => {
    throw new TidemarkError('InvalidInput', `not a folder: ${root}`, { path: root }, e);
  });
  const selfFormat = await detectTableFormat(storage, root);
  if (selfFormat) {
    const name = root.split('/').filter(Boolean).pop() ?? root;
    return [{ namespace: '', name, path: root, format: selfFormat }];
  }
  const tables: WarehouseTable[] = [];
  async function walk(dir: string, namespace: string[], folders: string[]) {
    for (const name of folders) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const format = namespace.length > 0 ? await detectTableFormat(storage, path) : null;
      if (format) {
        tables.push({ namespace: namespace.join('.'), name, path, format });
      } else if (namespace.length < MAX_NAMESPACE_DEPTH) {
        const children = await listSubfolders(storage, path).catch(absentAs([]));
        await walk(path, [...namespace, name.replace(/\.db$/, '')], children);
      }
    }
  }
  await walk(root, [], rootFolders);
  return tables;
}
