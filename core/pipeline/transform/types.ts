import type { ColumnSchema } from '../../cdc';
import { TidemarkError } from '../../errors';

/**
 * Flink CDC's data types (flink-cdc-common DataTypes) as the transform sees them, and how a value
 * of each is held while an expression runs.
 *
 * Runtime values by kind: BOOLEAN boolean; TINYINT/SMALLINT/INT number (32-bit, Java wrap-around);
 * BIGINT bigint (64-bit); FLOAT/DOUBLE number (FLOAT rounded with Math.fround); DECIMAL Dec
 * (unscaled bigint + scale); CHAR/VARCHAR string; BINARY/VARBINARY Uint8Array; DATE number (days
 * since 1970-01-01); TIME number (ns since midnight); TIMESTAMP and TIMESTAMP_LTZ bigint (ns since
 * the epoch: wall clock for TIMESTAMP, instant for TIMESTAMP_LTZ); TIMESTAMP_TZ Zoned (wall clock
 * ns + zone id). Nanoseconds because Flink CDC's TimestampData carries them (TIMESTAMP(9)).
 */
export type Kind =
  | 'BOOLEAN' | 'TINYINT' | 'SMALLINT' | 'INT' | 'BIGINT' | 'FLOAT' | 'DOUBLE' | 'DECIMAL'
  | 'CHAR' | 'VARCHAR' | 'BINARY' | 'VARBINARY' | 'DATE' | 'TIME' | 'TIMESTAMP' | 'TIMESTAMP_TZ' | 'TIMESTAMP_LTZ'
  /** The type of a bare NULL literal: fits any other. */
  | 'NULL'
  /** ARRAY, MAP, ROW, VARIANT: carried through unchanged (`text` is the Flink spelling); no operator reads them. */
  | 'NESTED';

export interface FlinkType {
  kind: Kind;
  nullable: boolean;
  /** CHAR/VARCHAR/BINARY/VARBINARY length; DECIMAL precision; TIME/TIMESTAMP* fractional digits. */
  precision?: number;
  scale?: number;
  text?: string;
}

export interface Dec {
  readonly u: bigint;
  readonly s: number;
}
export interface Zoned {
  readonly n: bigint;
  readonly z: string;
}
export type V = null | boolean | number | bigint | string | Uint8Array | Dec | Zoned;

export const MAX_LENGTH = 2147483647;
export const INTEGER_KINDS: readonly Kind[] = ['TINYINT', 'SMALLINT', 'INT', 'BIGINT'];
export const NUMERIC_KINDS: readonly Kind[] = [...INTEGER_KINDS, 'DECIMAL', 'FLOAT', 'DOUBLE'];
export const STRING_KINDS: readonly Kind[] = ['CHAR', 'VARCHAR'];
export const BINARY_KINDS: readonly Kind[] = ['BINARY', 'VARBINARY'];
export const TIMESTAMP_KINDS: readonly Kind[] = ['TIMESTAMP', 'TIMESTAMP_TZ', 'TIMESTAMP_LTZ'];

export const isDec = (v: V): v is Dec => typeof v === 'object' && v !== null && 'u' in v;
export const isZoned = (v: V): v is Zoned => typeof v === 'object' && v !== null && 'z' in v;

export const t = (kind: Kind, nullable = true, precision?: number, scale?: number): FlinkType => ({ kind, nullable, precision, scale });
export const STRING = (nullable = true): FlinkType => t('VARCHAR', nullable, MAX_LENGTH);
export const BOOLEAN = (nullable = true): FlinkType => t('BOOLEAN', nullable);
export const INT = (nullable = true): FlinkType => t('INT', nullable);
export const withNull = (ty: FlinkType, nullable: boolean): FlinkType => ({ ...ty, nullable });

export const isNumeric = (ty: FlinkType) => NUMERIC_KINDS.includes(ty.kind);
export const isInteger = (ty: FlinkType) => INTEGER_KINDS.includes(ty.kind);
export const isString = (ty: FlinkType) => STRING_KINDS.includes(ty.kind);
export const isBinary = (ty: FlinkType) => BINARY_KINDS.includes(ty.kind);

/** Flink CDC's spelling, as in a CreateTableEvent: `BIGINT NOT NULL`, `DECIMAL(10, 2)`, `STRING`. */
export function formatType(ty: FlinkType): string {
  const p = ty.precision;
  let s: string;
  switch (ty.kind) {
    case 'CHAR': s = `CHAR(${p})`; break;
    case 'VARCHAR': s = p === MAX_LENGTH ? 'STRING' : `VARCHAR(${p})`; break;
    case 'BINARY': s = `BINARY(${p})`; break;
    case 'VARBINARY': s = p === MAX_LENGTH ? 'BYTES' : `VARBINARY(${p})`; break;
    case 'DECIMAL': s = `DECIMAL(${p}, ${ty.scale})`; break;
    case 'TIME': s = `TIME(${p})`; break;
    case 'TIMESTAMP': s = `TIMESTAMP(${p})`; break;
    case 'TIMESTAMP_TZ': s = `TIMESTAMP(${p}) WITH TIME ZONE`; break;
    case 'TIMESTAMP_LTZ': s = `TIMESTAMP_LTZ(${p})`; break;
    case 'NESTED': s = ty.text ?? 'NESTED'; break;
    case 'NULL': s = 'NULL'; break;
    default: s = ty.kind;
  }
  return ty.nullable || ty.kind === 'NULL' ? s : `${s} NOT NULL`;
}

const NESTED_WORDS = /^(ARRAY|MAP|ROW|MULTISET|VARIANT)\b/i;

/**
 * Parses a type as written in `CAST(x AS type)` or in a Flink schema: `INT`, `VARCHAR(10)`,
 * `DECIMAL(10, 2)`, `TIMESTAMP(3) WITH TIME ZONE`, `TIMESTAMP_LTZ(3)`, `STRING`, `BYTES`; NOT NULL
 * may follow. Nested types (ARRAY<…>, MAP<…>, ROW<…>, VARIANT) come back as NESTED.
 */
export function parseType(text: string): FlinkType {
  let s = text.trim();
  let nullable = true;
  const nn = /\s+NOT\s+NULL$/i.exec(s);
  if (nn) {
    nullable = false;
    s = s.slice(0, nn.index);
  }
  if (NESTED_WORDS.test(s)) return { kind: 'NESTED', nullable, text: s };
  const m = /^([A-Za-z_]+(?:\s+[A-Za-z_]+)*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?(\s+WITH(?:\s+LOCAL)?\s+TIME\s+ZONE)?$/i.exec(s);
  if (!m) throw new TidemarkError('InvalidInput', `unknown type ${JSON.stringify(text)}`);
  const name = m[1]!.toUpperCase().replace(/\s+/g, ' ');
  const a = m[2] === undefined ? undefined : Number(m[2]);
  const b = m[3] === undefined ? undefined : Number(m[3]);
  const zone = m[4]?.toUpperCase().replace(/\s+/g, ' ') ?? '';
  const one = (kind: Kind, def?: number): FlinkType => t(kind, nullable, a ?? def);
  switch (name) {
    case 'BOOLEAN': case 'BOOL': return t('BOOLEAN', nullable);
    case 'TINYINT': return t('TINYINT', nullable);
    case 'SMALLINT': return t('SMALLINT', nullable);
    case 'INT': case 'INTEGER': return t('INT', nullable);
    case 'BIGINT': return t('BIGINT', nullable);
    case 'FLOAT': case 'REAL': return t('FLOAT', nullable);
    case 'DOUBLE': case 'DOUBLE PRECISION': return t('DOUBLE', nullable);
    case 'DECIMAL': case 'DEC': case 'NUMERIC': return t('DECIMAL', nullable, a ?? 10, b ?? 0);
    case 'CHAR': case 'CHARACTER': return one('CHAR', 1);
    case 'VARCHAR': case 'CHARACTER VARYING': return one('VARCHAR', MAX_LENGTH);
    case 'STRING': return STRING(nullable);
    case 'BINARY': return one('BINARY', 1);
    case 'VARBINARY': return one('VARBINARY', MAX_LENGTH);
    case 'BYTES': return t('VARBINARY', nullable, MAX_LENGTH);
    case 'DATE': return t('DATE', nullable);
    case 'TIME': return one('TIME', 0);
    case 'TIMESTAMP':
      if (zone === ' WITH TIME ZONE') return one('TIMESTAMP_TZ', 6);
      if (zone === ' WITH LOCAL TIME ZONE') return one('TIMESTAMP_LTZ', 6);
      return one('TIMESTAMP', 6);
    case 'TIMESTAMP_LTZ': return one('TIMESTAMP_LTZ', 6);
    case 'TIMESTAMP_TZ': return one('TIMESTAMP_TZ', 6);
  }
  throw new TidemarkError('Unsupported', `type ${name} is not supported in transform expressions`, { type: name });
}

/** Two types are comparable/assignable in the same family (numbers with numbers, text with text, …). */
export function family(ty: FlinkType): string {
  if (isNumeric(ty)) return 'numeric';
  if (isString(ty)) return 'string';
  if (isBinary(ty)) return 'binary';
  if (TIMESTAMP_KINDS.includes(ty.kind)) return 'timestamp';
  return ty.kind;
}

const NUMERIC_RANK: Partial<Record<Kind, number>> = { TINYINT: 1, SMALLINT: 2, INT: 3, BIGINT: 4, DECIMAL: 5, FLOAT: 6, DOUBLE: 7 };

/**
 * The least restrictive type of several (CASE branches, COALESCE, IN lists), as Calcite chooses:
 * the widest number, text of the longest length (a mix of CHAR and VARCHAR is VARCHAR → STRING).
 * Null when the types do not mix.
 */
export function leastRestrictive(types: FlinkType[]): FlinkType | null {
  const real = types.filter((x) => x.kind !== 'NULL');
  const nullable = types.some((x) => x.nullable);
  if (real.length === 0) return { kind: 'NULL', nullable: true };
  const first = real[0]!;
  const fam = family(first);
  if (!real.every((x) => family(x) === fam)) return null;
  if (fam === 'numeric') {
    const top = real.reduce((a, b) => (NUMERIC_RANK[b.kind]! > NUMERIC_RANK[a.kind]! ? b : a));
    if (top.kind !== 'DECIMAL') return withNull(top, nullable);
    const decs = real.map(asDecimalType);
    const scale = Math.max(...decs.map((d) => d.scale!));
    const ints = Math.max(...decs.map((d) => d.precision! - d.scale!));
    return t('DECIMAL', nullable, Math.min(38, ints + scale), scale);
  }
  if (fam === 'string') return STRING(nullable);
  if (fam === 'binary') return t('VARBINARY', nullable, MAX_LENGTH);
  if (fam === 'timestamp') return withNull(real.find((x) => x.kind === 'TIMESTAMP_LTZ') ?? first, nullable);
  return withNull(first, nullable);
}

/** An integer type as the DECIMAL that holds all its values (Calcite's rule). */
export function asDecimalType(ty: FlinkType): FlinkType {
  switch (ty.kind) {
    case 'TINYINT': return t('DECIMAL', ty.nullable, 3, 0);
    case 'SMALLINT': return t('DECIMAL', ty.nullable, 5, 0);
    case 'INT': return t('DECIMAL', ty.nullable, 10, 0);
    case 'BIGINT': return t('DECIMAL', ty.nullable, 19, 0);
    default: return ty;
  }
}

/**
 * The Flink CDC type of a MySQL column, as the MySQL pipeline connector maps it
 * (MySqlTypeUtils): the Iceberg type Tidemark gave it decides the runtime form, the MySQL type
 * its width (TINYINT vs INT, CHAR(n) vs VARCHAR(n), DATETIME vs TIMESTAMP).
 */
export function flinkTypeOfColumn(c: ColumnSchema): FlinkType {
  const mysql = c.mysqlType.toLowerCase();
  const base = mysql.replace(/\(.*$/, '').replace(/\s.*$/, '');
  const len = /\((\d+)/.exec(mysql);
  const n = len ? Number(len[1]) : undefined;
  const nullable = c.nullable;
  const ib = c.icebergType;
  switch (ib.type) {
    case 'boolean': return t('BOOLEAN', nullable);
    case 'int':
      if (base === 'tinyint') return t(mysql.includes('unsigned') ? 'SMALLINT' : 'TINYINT', nullable);
      if (base === 'smallint' && !mysql.includes('unsigned')) return t('SMALLINT', nullable);
      return t('INT', nullable);
    case 'long': return t('BIGINT', nullable);
    case 'float': return t('FLOAT', nullable);
    case 'double': return t('DOUBLE', nullable);
    case 'decimal': return t('DECIMAL', nullable, ib.precision, ib.scale);
    case 'date': return t('DATE', nullable);
    case 'time': return t('TIME', nullable, n ?? 0);
    case 'timestamp': return t('TIMESTAMP', nullable, n ?? 0);
    case 'timestamptz': return t('TIMESTAMP_LTZ', nullable, n ?? 0);
    case 'binary':
      if (base === 'binary') return t('BINARY', nullable, n ?? 1);
      if (base === 'varbinary') return t('VARBINARY', nullable, n ?? MAX_LENGTH);
      return t('VARBINARY', nullable, MAX_LENGTH);
    case 'string':
      if (base === 'char') return t('CHAR', nullable, n ?? 1);
      if (base === 'varchar') return t('VARCHAR', nullable, n ?? MAX_LENGTH);
      return STRING(nullable);
  }
}

/** The Iceberg type (spec spelling) a transform output column of this type is written as. */
export function icebergTypeOf(ty: FlinkType): string {
  switch (ty.kind) {
    case 'BOOLEAN': return 'boolean';
    case 'TINYINT': case 'SMALLINT': case 'INT': return 'int';
    case 'BIGINT': return 'long';
    case 'FLOAT': return 'float';
    case 'DOUBLE': return 'double';
    case 'DECIMAL': return `decimal(${Math.min(ty.precision!, 38)},${ty.scale})`;
    case 'BINARY': case 'VARBINARY': return 'binary';
    case 'DATE': return 'date';
    case 'TIME': return 'time';
    case 'TIMESTAMP': return 'timestamp';
    case 'TIMESTAMP_TZ': case 'TIMESTAMP_LTZ': return 'timestamptz';
    default: return 'string';
  }
}
