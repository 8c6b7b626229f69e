import { TidemarkError } from '../errors';
import type { ManifestFile, Schema, TableMetadata } from './model';
import type { PlannedDataFile } from './scan-plan';
import { decodeSingleValue } from './serde/single-value';
import { applyTransform, partitionResultType } from './transforms';
import { valueKey } from './values';

/**
 * A conjunction of simple predicates on top-level columns, with canonical values (values.ts).
 * Used to prune files in planning (partition values and column bounds) and to filter rows.
 */
export type Predicate =
  | { column: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: unknown }
  | { column: string; op: 'is-null' | 'not-null' };
export type ScanFilter = Predicate[];

/** Orders two canonical values of the same type; strings compare by code unit like the spec's UTF-8 bounds for ASCII. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = BigInt(a as bigint);
    const y = BigInt(b as bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string' && /^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b)) {
    return Number(a) - Number(b); // decimals
  }
  const sa = valueKey(a);
  const sb = valueKey(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function rowMatches(row: Record<string, unknown>, filter: ScanFilter): boolean {
  return filter.every((p) => {
    const v = row[p.column];
    if (p.op === 'is-null') return v === null || v === undefined;
    if (p.op === 'not-null') return v !== null && v !== undefined;
    if (v === null || v === undefined) return false;
    if (!('value' in p)) return true;
    const c = compareValues(v, p.value);
    switch (p.op) {
      case '=':
        return c === 0;
      case '!=':
        return c !== 0;
      case '<':
        return c < 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '>=':
        return c >= 0;
    }
    return true;
  });
}

/** False when the file certainly holds no matching row (by identity partitions or column bounds). */
export function pruneByFilter(metadata: TableMetadata, schema: Schema, file: PlannedDataFile, filter: ScanFilter): boolean {
  try {
    checkFile(metadata, schema, file, filter);
    return true;
  } catch (e) {
    if (e === PRUNE) return false;
    throw e;
  }
}

const PRUNE = Symbol('prune');

function checkFile(metadata: TableMetadata, schema: Schema, file: PlannedDataFile, filter: ScanFilter): void {
  const spec = metadata.partitionSpecs.find((s) => s.specId === file.specId);
  for (const p of filter) {
    const field = schema.fields.find((f) => f.name === p.column);
    if (!field) throw new TidemarkError('InvalidInput', `filter column ${JSON.stringify(p.column)} is not in the schema`, { column: p.column });
    // Partition values: exact for identity, and for '=' any transform of the literal must match.
    spec?.fields.forEach((pf, i) => {
      if (pf.sourceId !== field.id) return;
      const pv = file.partition[i];
      if (p.op === 'is-null' && pv !== null && pf.transform !== 'void') throw PRUNE;
      if (p.op === '=' && pv !== null && pv !== undefined) {
        if (compareValues(applyTransform(pf.transform, field.type, p.value), pv) !== 0) throw PRUNE;
      }
      if (p.op === '=' && pv === null && pf.transform !== 'void') throw PRUNE;
    });
    if (typeof field.type !== 'string') continue;
    const d = file.dataFile;
    const lo = d.lowerBounds?.get(field.id);
    const hi = d.upperBounds?.get(field.id);
    let lower: unknown;
    let upper: unknown;
    // String/binary bounds may be truncated: only decode exact fixed-width bounds for pruning.
    if (field.type !== 'string' && field.type !== 'binary') {
      try {
        lower = lo ? decodeSingleValue(field.type, lo) : undefined;
        upper = hi ? decodeSingleValue(field.type, hi) : undefined;
      } catch {
        // A bound we cannot decode never prunes: reading the file is always correct.
        lower = upper = undefined;
      }
    }
    if (!statisticsMayMatch(p, { lower, upper, nullCount: d.nullValueCounts?.get(field.id), valueCount: d.valueCounts?.get(field.id) })) throw PRUNE;
  }
}

/**
 * False when no data file of `manifest` can hold a matching row, by its partition field summaries
 * in the manifest list (spec "Manifest Lists": the lower and upper bounds of each partition field's
 * values, whether any is null): identity partitions prune on every comparison, other transforms
 * on `=` (the transformed literal outside the bounds). Strings and binaries, whose bounds a writer
 * may truncate, and anything that does not decode never prune: reading the manifest is always correct.
 */
export function manifestMayMatch(metadata: TableMetadata, schema: Schema, manifest: ManifestFile, filter: ScanFilter): boolean {
  const spec = metadata.partitionSpecs.find((s) => s.specId === manifest.partitionSpecId);
  const summaries = manifest.partitions;
  if (!spec || !summaries || summaries.length !== spec.fields.length) return true;
  for (const p of filter) {
    const field = schema.fields.find((f) => f.name === p.column);
    if (!field || typeof field.type !== 'string') continue;
    for (const [i, pf] of spec.fields.entries()) {
      if (pf.sourceId !== field.id || pf.transform === 'void') continue;
      const summary = summaries[i]!;
      const type = partitionResultType(pf.transform, field.type);
      if (type === 'string' || type === 'binary' || typeof type !== 'string') continue;
      if (p.op === 'is-null') {
        if (!summary.containsNull) return false;
        continue;
      }
      if (!('value' in p)) continue;
      // No non-null partition value: no comparison matches.
      if (summary.lowerBound === null && summary.upperBound === null) {
        if (!summary.containsNull) continue; // nothing known (an empty manifest, or bounds not written)
        if (p.op !== '!=') return false;
        continue;
      }
      const identity = pf.transform === 'identity';
      if (!identity && p.op !== '=') continue;
      let lower: unknown;
      let upper: unknown;
      let literal: unknown;
      try {
        lower = summary.lowerBound ? decodeSingleValue(type, summary.lowerBound) : undefined;
        upper = summary.upperBound ? decodeSingleValue(type, summary.upperBound) : undefined;
        literal = identity ? p.value : applyTransform(pf.transform, field.type, p.value);
      } catch {
        continue;
      }
      if (!statisticsMayMatch({ ...p, value: literal }, { lower, upper, nullCount: undefined, valueCount: undefined })) return false;
    }
  }
  return true;
}

/** What is known of a column's values in a file or row group; undefined where unknown. */
export interface ColumnStatistics {
  /** Exact lower and upper bounds of the non-null values. */
  lower: unknown;
  upper: unknown;
  nullCount: number | undefined;
  /** Values counted, nulls included. */
  valueCount: number | undefined;
}

/**
 * False when values with these statistics certainly hold no match for `p` (prune them), else true.
 * Shared by data-file pruning (manifest bounds) and Parquet row-group pruning (chunk statistics).
 */
export function statisticsMayMatch(p: Predicate, s: ColumnStatistics): boolean {
  if (p.op === 'is-null') return s.nullCount !== 0;
  // Only NULLs: no comparison matches them.
  if (s.valueCount !== undefined && s.nullCount !== undefined && s.valueCount === s.nullCount && s.valueCount > 0 && p.op !== 'not-null') return false;
  if (!('value' in p) || p.op === '!=') return true;
  const { lower, upper } = s;
  if (p.op === '=') return !((lower !== undefined && compareValues(p.value, lower) < 0) || (upper !== undefined && compareValues(p.value, upper) > 0));
  if (p.op === '<' || p.op === '<=') return !(lower !== undefined && compareValues(lower, p.value) > (p.op === '<' ? -1 : 0));
  return !(upper !== undefined && compareValues(upper, p.value) < (p.op === '>' ? 1 : 0));
}
