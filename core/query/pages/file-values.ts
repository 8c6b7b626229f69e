/**
 * Values of some fields at given row positions of one data file, read through the row-group cache:
 * only the row groups holding the positions, only the asked columns, and where few rows of a group
 * are wanted only the pages holding them (offset index). Fields are matched by field id; a field the
 * file lacks reads as its identity partition value, else its initial-default (spec: "Default
 * values"). Used by row diff and key history, which look at a few rows of many files. Browser-safe.
 * The v3 row-lineage columns (`_row_id`, `_last_updated_sequence_number`) are inherited where null
 * or absent (core/lake/row-lineage.ts).
 */
import { convertArrowData, inheritRowLineage, isRowLineageField } from '../../lake';
import type { NestedField, TableMetadata } from '../../lake';
import type { PlannedFile } from '../../lake';
import type { RowGroupCache } from './row-group-cache';
import { sliceChunks } from './version-rows';

/**
 * Rows of a group read by pages when the wanted span is below this share of the group: a page read
 * is cached under its rows only, so a span close to the whole group is better read (and kept) whole.
 */
const PAGE_SPAN_SHARE = 0.5;

/** A field's value in a file that lacks its column: identity partition value, else initial-default. */
export function absentFieldValue(metadata: TableMetadata, f: PlannedFile, field: NestedField): unknown {
  const spec = metadata.partitionSpecs.find((s) => s.specId === f.specId);
  const pi = spec?.fields.findIndex((pf) => pf.sourceId === field.id && pf.transform === 'identity') ?? -1;
  return pi >= 0 ? f.partition[pi] : (field.initialDefault ?? null);
}

/**
 * Canonical values (core/lake/values.ts) of `fields` at `positions` (ascending row positions in the
 * file) of data file `f`: one array per field, aligned with `positions`.
 */
export async function readFileValues(cache: RowGroupCache, metadata: TableMetadata, f: PlannedFile, fields: NestedField[], positions: ArrayLike<number>): Promise<unknown[][]> {
  const out = fields.map(() => new Array<unknown>(positions.length));
  if (positions.length === 0) return out;
  await readStoredValues(cache, metadata, f, fields, positions, out);
  fields.forEach((field, k) => {
    if (!isRowLineageField(field)) return;
    const column = out[k]!;
    const lineage = { firstRowId: f.dataFile.firstRowId ?? null, sequenceNumber: f.sequenceNumber };
    // Inherited per row from the row's own position (inheritRowLineage counts from position 0).
    for (let i = 0; i < positions.length; i++) {
      if (column[i] === null || column[i] === undefined) column[i] = inheritRowLineage(field, null, 1, { ...lineage, firstRowId: lineage.firstRowId === null ? null : lineage.firstRowId + BigInt(positions[i]!) })[0];
      else column[i] = BigInt(column[i] as bigint);
    }
  });
  return out;
}

async function readStoredValues(cache: RowGroupCache, metadata: TableMetadata, f: PlannedFile, fields: NestedField[], positions: ArrayLike<number>, out: unknown[][]): Promise<void> {
  const file = await cache.open(f.path, f.fileSizeInBytes, 'data file');
  const names = fields.map((field) => file.columns.byFieldId.get(field.id) ?? null);
  fields.forEach((field, k) => {
    if (names[k] === null) out[k]!.fill(absentFieldValue(metadata, f, field));
  });
  const present = [...new Set(names.filter((n): n is string => n !== null))];
  if (present.length === 0) return;
  let at = 0; // index into positions
  let groupStart = 0;
  for (const [g, rg] of file.footer.rowGroups.entries()) {
    const groupEnd = groupStart + rg.numRows;
    const first = at;
    while (at < positions.length && positions[at]! < groupEnd) at++;
    if (at > first) {
      const from = positions[first]! - groupStart;
      const to = positions[at - 1]! - groupStart + 1;
      const read = to - from < rg.numRows * PAGE_SPAN_SHARE ? await cache.readRows(file, g, present, from, to) : await cache.read(file, g, present);
      fields.forEach((field, k) => {
        const name = names[k];
        if (name === null || name === undefined) return;
        const column = read.get(name)!;
        const where = `${f.path}: ${field.name}`;
        const wanted = at - first;
        if (wanted * 8 >= to - from) {
          // Dense: convert the span once and pick.
          const values = sliceChunks(column, from - column.rowStart, to - column.rowStart).flatMap((d) => convertArrowData(d, field.type, where));
          for (let i = first; i < at; i++) out[k]![i] = values[positions[i]! - groupStart - from];
        } else {
          // Sparse: convert each wanted row alone.
          for (let i = first; i < at; i++) {
            const r = positions[i]! - groupStart - column.rowStart;
            out[k]![i] = convertArrowData(sliceChunks(column, r, r + 1)[0]!, field.type, where)[0];
          }
        }
      });
    }
    groupStart = groupEnd;
    if (at >= positions.length) break;
  }
}
