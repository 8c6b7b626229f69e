/**
 * Loading Parquet files into DuckDB-wasm without DuckDB's parquet extension: parquet-wasm decodes
 * only the needed columns into Arrow IPC, which DuckDB ingests. The parquet-wasm module is injected
 * (the Node build in Node, `parquet-wasm/esm` after `init()` in the renderer).
 */
import { tableFromIPC } from 'apache-arrow';
import { TidemarkError } from '../errors';
import { arrowFieldId } from '../lake/arrow-values';
import type { StoragePort } from '../storage';

export interface ParquetApi {
  readParquet(bytes: Uint8Array, options?: { columns?: string[]; rowGroups?: number[] } | null): { intoIPCStream(): Uint8Array };
  readSchema(bytes: Uint8Array): { intoIPCStream(): Uint8Array };
}

export interface ParquetColumn {
  name: string;
  fieldId: number | null;
  /** Struct children (empty for other types). */
  children: ParquetColumn[];
}

export interface ParquetColumns {
  /** Top-level field id → column name in the file (files written elsewhere name columns freely). */
  byFieldId: Map<number, string>;
  /** Every top-level column name, in file order. */
  names: string[];
  /** The top-level columns with their struct children, for nested projection by field id. */
  tree: ParquetColumn[];
}

type ArrowFieldLike = { name: string; metadata: Map<string, string>; type: { typeId: number; children?: ArrowFieldLike[] } };

function toColumn(f: ArrowFieldLike): ParquetColumn {
  const raw = f.metadata.get('PARQUET:field_id');
  // Only struct children are walked: list and map columns are taken whole.
  const children = f.type.typeId === 13 ? (f.type.children ?? []).map(toColumn) : [];
  return { name: f.name, fieldId: raw === undefined ? null : Number(raw), children };
}

/** Reads a Parquet file's bytes; NotFound names the file and what it is. */
export async function readParquetBytes(storage: StoragePort, path: string, what: string): Promise<Uint8Array> {
  try {
    return await storage.readFile(path);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') throw new TidemarkError('NotFound', `${what} not found: ${path}`, { path }, e);
    throw e;
  }
}

/** The top-level columns of a Parquet file with their `PARQUET:field_id`. */
export function readParquetColumns(parquet: ParquetApi, bytes: Uint8Array, path: string): ParquetColumns {
  let fields;
  try {
    fields = tableFromIPC(parquet.readSchema(bytes).intoIPCStream()).schema.fields;
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${path}: expected a Parquet file: ${(e as Error).message}`, { path }, e);
  }
  const byFieldId = new Map<number, string>();
  for (const f of fields) {
    const id = arrowFieldId(f);
    if (id !== null) byFieldId.set(id, f.name);
  }
  return { byFieldId, names: fields.map((f) => f.name), tree: fields.map((f) => toColumn(f as unknown as ArrowFieldLike)) };
}

/** Decodes the given columns of a Parquet file to Arrow IPC. */
export function readParquetIpc(parquet: ParquetApi, bytes: Uint8Array, path: string, columns: string[]): Uint8Array {
  try {
    return parquet.readParquet(bytes, { columns }).intoIPCStream();
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${path}: cannot decode Parquet columns ${columns.join(', ')}: ${(e as Error).message}`, { path }, e);
  }
}
