import { TidemarkError } from '../../../errors';
import type { TargetColumn } from '../schema';

/**
 * The Paimon type of a target column, as Flink CDC's MySQL source and Paimon pipeline connector
 * map it (MySQL → Flink CDC DataType → the Paimon type of the same name), documented in
 * core/pipeline/README.md "Paimon sink". From the source column's MySQL type where the column is
 * passed through; from the column's Iceberg type (the form its values take in the sink buffer)
 * for computed columns, metadata columns and columns added later by a schema change.
 * Key columns are NOT NULL (Paimon requires it); every other column is nullable, as in the Iceberg
 * sink (rows of a shard lacking a column, a column dropped under lenient).
 */
export function paimonTypeOf(c: TargetColumn, table: string): string {
  const base = (c.sourceType ? fromMysql(c.sourceType, c.type) : null) ?? fromIceberg(c.type, `${table}.${c.name}`);
  return c.required ? `${base} NOT NULL` : base;
}

/** Iceberg type (the buffer's value form) → Paimon type. */
export function fromIceberg(type: string, where: string): string {
  switch (type) {
    case 'boolean':
      return 'BOOLEAN';
    case 'int':
      return 'INT';
    case 'long':
      return 'BIGINT';
    case 'float':
      return 'FLOAT';
    case 'double':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP(6)';
    case 'timestamptz':
      return 'TIMESTAMP(6) WITH LOCAL TIME ZONE';
    case 'string':
    case 'uuid':
      return 'STRING';
    case 'binary':
      return 'BYTES';
    case 'time':
      // Paimon stores a TIME of any precision as milliseconds of the day.
      return 'TIME(3)';
  }
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (dec) return `DECIMAL(${dec[1]}, ${dec[2]})`;
  const fixed = /^fixed\[(\d+)\]$/.exec(type);
  if (fixed) return `BINARY(${fixed[1]})`;
  throw new TidemarkError('Unsupported', `${where}: no Paimon type for Iceberg type ${type}`, { feature: `Paimon type for ${type}` });
}

/**
 * MySQL column type → Paimon type where Flink CDC's mapping is finer than the Iceberg type, else
 * null (the Iceberg mapping is the same). `iceberg` is the column's Iceberg type: the buffer's
 * values are in its form, so the Paimon type must hold each of them.
 */
function fromMysql(mysqlType: string, iceberg: string): string | null {
  const t = mysqlType.trim().toLowerCase();
  const m = /^([a-z ]+?)(?:\((\d+)(?:,\s*(\d+))?\))?(?:\s+(unsigned|signed))?(?:\s+zerofill)?$/.exec(t);
  if (!m) return null;
  const [, name, a] = m;
  const unsigned = m[4] === 'unsigned';
  const n = a === undefined ? null : Number(a);
  switch (name) {
    case 'tinyint':
      if (iceberg === 'boolean') return 'BOOLEAN';
      return iceberg === 'int' ? (unsigned ? 'SMALLINT' : 'TINYINT') : null;
    case 'smallint':
      return iceberg === 'int' ? (unsigned ? 'INT' : 'SMALLINT') : null;
    case 'char':
      return iceberg === 'string' && n !== null && n >= 1 ? `CHAR(${n})` : null;
    case 'varchar':
      return iceberg === 'string' && n !== null && n >= 1 ? `VARCHAR(${n})` : null;
    case 'binary':
      return iceberg === 'binary' || iceberg.startsWith('fixed') ? `BINARY(${n ?? 1})` : null;
    case 'varbinary':
      return iceberg === 'binary' && n !== null && n >= 1 ? `VARBINARY(${n})` : null;
    case 'time':
      return iceberg === 'time' ? `TIME(${n ?? 0})` : null;
    case 'datetime':
      return iceberg === 'timestamp' ? `TIMESTAMP(${n ?? 0})` : null;
    case 'timestamp':
      return iceberg === 'timestamptz' ? `TIMESTAMP(${n ?? 0}) WITH LOCAL TIME ZONE` : iceberg === 'timestamp' ? `TIMESTAMP(${n ?? 0})` : null;
    default:
      return null;
  }
}
