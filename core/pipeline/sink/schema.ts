import type { IcebergType, TableSchema } from '../../cdc';
import { TidemarkError } from '../../errors';
import { formatDate, formatTime, formatTimestamp } from '../../lake';
import type { PartitionField, PipelineConfig } from '../config/types';
import type { RoutePlan, SourceTablePlan, TargetTablePlan } from '../config/route';
import type { CompiledTransform } from '../transform';
import type { Expr } from '../transform/parser';

/**
 * Target table schemas derived from the source schemas and the pipeline (route, transform,
 * partition.key), and the conversion of CDC column values into the lake's canonical row values.
 */
export interface TargetColumn {
  name: string;
  /** Iceberg primitive type in the spec's spelling (`long`, `decimal(10,2)`, `timestamptz`). */
  type: string;
  /** Only identifier (key) columns are required: every other column stays nullable so a dropped
   * source column (kept under lenient) and rows from shards lacking a column can be written. */
  required: boolean;
  /**
   * The source column's MySQL type (`varchar(64)`, `tinyint(4) unsigned`) when the column is a
   * source column passed through (not computed by a transform): a sink whose format has finer
   * types than Iceberg's (Paimon's TINYINT, VARCHAR(n), TIMESTAMP(p)) maps from it.
   */
  sourceType?: string;
}

export interface TargetDesign {
  id: string;
  columns: TargetColumn[];
  key: string[];
  partitionBy: { column: string; transform: string }[];
  /** A transform rule's `table-options`: table properties of the created table (over sink `table.properties.*`). */
  properties: Record<string, string>;
}

export function icebergTypeName(t: IcebergType): string {
  return t.type === 'decimal' ? `decimal(${t.precision},${t.scale})` : t.type;
}

const NUMERIC_RANK: Record<string, number> = { int: 1, long: 2, float: 3, double: 4 };

/** The Iceberg type of a projection expression, from the source column types (best effort: text when unknown). */
export function inferExprType(e: Expr, columnType: (name: string) => string | null): string {
  switch (e.k) {
    case 'lit':
      if (typeof e.value === 'boolean') return 'boolean';
      if (typeof e.value === 'number') return Number.isInteger(e.value) ? 'long' : 'double';
      if (typeof e.value === 'bigint') return 'long';
      return 'string';
    case 'col': {
      if (e.name === 'op_ts') return 'timestamptz';
      if (e.name.startsWith('__') && e.name.endsWith('__')) return 'string';
      return columnType(e.name) ?? 'string';
    }
    case 'neg':
      return inferExprType(e.e, columnType);
    case 'bin': {
      if (e.op === '||') return 'string';
      if (!['+', '-', '*', '/', '%'].includes(e.op)) return 'boolean';
      const l = inferExprType(e.l, columnType);
      const r = inferExprType(e.r, columnType);
      // Integer arithmetic stays 64-bit (transform-eval keeps bigint exact); anything else is a double.
      if ((l === 'int' || l === 'long') && (r === 'int' || r === 'long')) return 'long';
      return 'double';
    }
    case 'call': {
      const name = e.name.toUpperCase();
      if (['UPPER', 'LOWER', 'TRIM', 'CONCAT', 'SUBSTR', 'SUBSTRING'].includes(name)) return 'string';
      if (name === 'CHAR_LENGTH' || name === 'CHARACTER_LENGTH') return 'int';
      if (name === 'COALESCE') return e.args[0] ? inferExprType(e.args[0], columnType) : 'string';
      const arg = e.args[0] ? inferExprType(e.args[0], columnType) : 'double';
      return NUMERIC_RANK[arg] !== undefined ? arg : 'double';
    }
    default:
      return 'boolean';
  }
}

/** Output column types of one source table through its transform (source types without one). */
export function outputColumnTypes(schema: TableSchema, plan: SourceTablePlan, transform: CompiledTransform | null): Map<string, string> {
  const sourceTypes = new Map(schema.columns.map((c) => [c.name.toLowerCase(), icebergTypeName(c.icebergType)]));
  const lookup = (n: string) => sourceTypes.get(n.toLowerCase()) ?? null;
  const out = new Map<string, string>();
  const items = transform?.projection?.items ?? null;
  for (const name of plan.columns) {
    const item = items?.find((i) => i.kind === 'expr' && i.name.toLowerCase() === name.toLowerCase());
    out.set(name, item && item.kind === 'expr' ? inferExprType(item.expr, lookup) : (lookup(name) ?? 'string'));
  }
  return out;
}

/**
 * MySQL types of the columns of one source table that reach its targets unchanged (by lower-cased
 * name): every column without a transform, else those the projection passes through by name
 * (`*`, or an item that is the column itself).
 */
export function passedSourceTypes(schema: TableSchema, transform: CompiledTransform | null): Map<string, string> {
  const items = transform?.projection?.items ?? null;
  const out = new Map<string, string>();
  for (const c of schema.columns) {
    const name = c.name.toLowerCase();
    const item = items?.find((i) => i.kind === 'expr' && i.name.toLowerCase() === name);
    if (item && item.kind === 'expr' && !(item.expr.k === 'col' && item.expr.name.toLowerCase() === name)) continue;
    out.set(name, c.mysqlType);
  }
  return out;
}

/** Designs one target table: columns in plan order with the first source's type, key, partition spec. */
export function designTarget(
  config: PipelineConfig,
  target: TargetTablePlan,
  typesBySource: Map<string, Map<string, string>>,
  transformPartitionKeys: string[] | null,
  tableOptions: Record<string, string> = {},
  sourceTypesBySource?: Map<string, Map<string, string>>,
): TargetDesign {
  const id = `${target.target.db}.${target.target.table}`;
  const columns: TargetColumn[] = target.columns.map((name) => {
    let type: string | null = null;
    let sourceType: string | null = null;
    if (name === '__table_name__' || name === '__schema_name__') type = 'string';
    for (const s of target.sources) {
      const from = typesBySource.get(`${s.db}.${s.table}`)?.get(name) ?? null;
      if (type === null && from !== null) sourceType = sourceTypesBySource?.get(`${s.db}.${s.table}`)?.get(name.toLowerCase()) ?? null;
      type ??= from;
    }
    return { name, type: type ?? 'string', required: target.key.includes(name), ...(sourceType !== null ? { sourceType } : {}) };
  });
  const declared: PartitionField[] = config.sink.partitionKeys[id] ?? (transformPartitionKeys ?? []).map((c) => ({ sourceColumn: c, transform: 'identity' }));
  const partitionBy = declared.map((p) => {
    if (!columns.some((c) => c.name === p.sourceColumn)) {
      throw new TidemarkError('InvalidInput', `partition.key for ${id} names column ${JSON.stringify(p.sourceColumn)}, which the target does not have (columns: ${columns.map((c) => c.name).join(', ')})`, { table: id, column: p.sourceColumn });
    }
    return { column: p.sourceColumn, transform: p.transform };
  });
  return { id, columns, key: target.key, partitionBy, properties: { ...tableOptions } };
}

/** Source-table plans by `db.table`, for the routing of each record. */
export function indexSourcePlans(plan: RoutePlan): Map<string, SourceTablePlan> {
  return new Map(plan.tables.map((t) => [`${t.source.db}.${t.source.table}`, t]));
}

type LakeValue = null | boolean | number | bigint | string | Uint8Array;

function mismatch(column: string, type: string, v: unknown): TidemarkError {
  const shown = typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `<${v.length} bytes>` : JSON.stringify(v);
  return new TidemarkError('DataInvalid', `column ${column} (${type}): cannot write value ${shown} (${typeof v})`, { column, type });
}

/**
 * A CDC ColumnValue (core/cdc types.ts) → the lake's canonical value (core/lake values.ts) for an
 * Iceberg column type. Dates arrive as days, times and timestamps as bigint µs; `op_ts` from a
 * transform arrives as a number of ms. Integer widths follow the target (int ↔ long).
 */
export function toLakeValue(v: unknown, type: string, column: string): LakeValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number' || typeof v === 'bigint') return v !== 0 && v !== 0n;
      break;
    case 'int':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      break;
    case 'long':
      if (typeof v === 'bigint') return v;
      if (typeof v === 'number') return BigInt(Math.trunc(v));
      if (typeof v === 'boolean') return v ? 1n : 0n;
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
      break;
    case 'float':
    case 'double':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)))) return Number(v);
      break;
    case 'date':
      if (typeof v === 'number') return formatDate(v);
      if (typeof v === 'string') return v;
      break;
    case 'time':
      if (typeof v === 'bigint') return formatTime(v);
      if (typeof v === 'string') return v;
      break;
    case 'timestamp':
    case 'timestamptz':
      if (typeof v === 'bigint') return formatTimestamp(v, type === 'timestamptz');
      if (typeof v === 'number') return formatTimestamp(BigInt(Math.trunc(v)) * 1000n, type === 'timestamptz');
      if (typeof v === 'string') return v;
      break;
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
      if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
      break;
    case 'binary':
      if (v instanceof Uint8Array) return v;
      if (typeof v === 'string') return new TextEncoder().encode(v);
      break;
    default: {
      const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
      if (dec) {
        const scale = Number(dec[2]);
        if (typeof v === 'string') return v;
        if (typeof v === 'bigint') return scale === 0 ? v.toString() : `${v}.${'0'.repeat(scale)}`;
        if (typeof v === 'number') return v.toFixed(scale);
      }
    }
  }
  throw mismatch(column, type, v);
}

/**
 * toLakeValue for one column, resolved once: the hot cases (text, ints and doubles already in
 * their lake form, bigint timestamps, decimal text) skip the per-value switch, the decimal-type
 * regex and the `column` label; anything else goes through toLakeValue (same results, same errors).
 */
export function lakeValueConverter(type: string, column: string): (v: unknown) => LakeValue {
  const general = (v: unknown) => toLakeValue(v, type, column);
  switch (type) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : general(v));
    case 'int':
      return (v) => (typeof v === 'number' && Number.isInteger(v) ? v : general(v));
    case 'long':
      return (v) => (typeof v === 'bigint' ? v : general(v));
    case 'double':
      return (v) => (typeof v === 'number' ? v : general(v));
    case 'timestamp':
    case 'timestamptz': {
      const zoned = type === 'timestamptz';
      return (v) => (typeof v === 'bigint' ? formatTimestamp(v, zoned) : general(v));
    }
  }
  if (/^decimal\(\d+,\s*\d+\)$/.test(type)) return (v) => (typeof v === 'string' ? v : general(v));
  return general;
}
