/**
 * Iceberg v3 variant columns for DuckDB: DuckDB-wasm cannot decode the Variant binary encoding, so
 * a loaded file's variant columns (Parquet group of `metadata` and `value` binaries) are replaced
 * by their JSON text (core/lake/variant.ts) in the Arrow IPC before DuckDB ingests it. The view then
 * carries a variant as VARCHAR, the same JSON text the lake reader returns. Browser-safe.
 */
import { Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { convertVariantData } from '../lake';

/** `ipc` with the named columns (variants) turned into UTF-8 JSON text; unchanged when none is present. */
export function variantColumnsToJson(ipc: Uint8Array, names: string[], path: string): Uint8Array {
  const table = tableFromIPC(ipc);
  const present = names.filter((n) => table.schema.fields.some((f) => f.name === n));
  if (present.length === 0) return ipc;
  const columns: Record<string, Vector> = {};
  for (const field of table.schema.fields) {
    const child = table.getChild(field.name)!;
    if (!present.includes(field.name)) {
      columns[field.name] = child;
      continue;
    }
    const text = child.data.flatMap((d) => convertVariantData(d, `${path}: ${field.name}`));
    columns[field.name] = vectorFromArray(text, new Utf8());
  }
  return tableToIPC(new Table(columns), 'stream');
}
