import type { PartitionField, SchemaChangeType, ShardColumn, SkippedOperation } from './types';
import { SCHEMA_CHANGE_TYPES } from './keys';

/**
 * Value parsers for pipeline options. Each returns `{ value }` or `{ error }` with a message that
 * says what was expected and what was found; config.ts adds file, line and key path.
 */
export type Parsed<T> = { value: T } | { error: string };

const quote = (s: string) => JSON.stringify(s);

/** Flink's boolean options accept true/false in any case (ConfigurationUtils). */
export function parseBool(text: string): Parsed<boolean> {
  const t = text.trim().toLowerCase();
  if (t === 'true') return { value: true };
  if (t === 'false') return { value: false };
  return { error: `expected true or false, found ${quote(text)}` };
}

export function parseInteger(text: string, min?: number, max?: number): Parsed<number> {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) return { error: `expected an integer, found ${quote(text)}` };
  const n = Number(t);
  if (!Number.isSafeInteger(n)) return { error: `integer out of range: ${t}` };
  if (min !== undefined && n < min) return { error: `expected an integer >= ${min}, found ${t}` };
  if (max !== undefined && n > max) return { error: `expected an integer <= ${max}, found ${t}` };
  return { value: n };
}

// Flink's TimeUtils.parseDuration units (the common ones); a bare number is milliseconds.
const DURATION_UNITS: Record<string, number> = {
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** `30s`, `1 min`, `500ms`, `2h`, `1d`, or a bare number of milliseconds → milliseconds. */
export function parseDuration(text: string): Parsed<number> {
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? '';
  const factor = unit === '' ? 1 : DURATION_UNITS[unit];
  if (!m || factor === undefined) {
    return { error: `expected a duration such as 30s, 1 min or 500ms, found ${quote(text)}` };
  }
  return { value: Number(m[1]) * factor };
}

/** `5400` or `5400-5408` (inclusive); MySQL server ids are unsigned 32-bit and non-zero. */
export function parseServerId(text: string): Parsed<{ start: number; end: number }> {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (!m) return { error: `expected a server id such as 5400 or a range such as 5400-5408, found ${quote(text)}` };
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 4294967295) return { error: `server ids must be between 1 and 4294967295, found ${quote(text)}` };
  if (end < start) return { error: `server-id range ${quote(text)} ends before it starts` };
  return { value: { start, end } };
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${env:NAME}` references from `env`. Returns the names that are not set, so the caller
 * can report each one; secrets therefore never have to be written in the file.
 */
export function resolveEnvRefs(text: string, env: Record<string, string | undefined>): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(ENV_REF, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) {
      missing.push(name);
      return '';
    }
    return v;
  });
  return { value, missing };
}

export function hasEnvRef(text: string): boolean {
  return /\$\{env:/.test(text);
}

const OFFSET_ZONE = /^(?:(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?|Z)$/;

/**
 * A time zone as Flink accepts it (java.time.ZoneId): an IANA name such as `Asia/Shanghai`, `UTC`,
 * or a fixed offset such as `+08:00` / `GMT-08:00`. Node's Intl knows the IANA names.
 */
export function parseTimeZone(text: string): Parsed<string> {
  const t = text.trim();
  if (OFFSET_ZONE.test(t)) return { value: t };
  try {
    new Intl.DateTimeFormat('en', { timeZone: t });
    return { value: t };
  } catch {
    return { error: `unknown time zone ${quote(text)}: expected an IANA name such as UTC or Asia/Shanghai, or an offset such as +08:00` };
  }
}

/** Flink splits list options on `,` (and YAML may give a sequence); blanks are dropped. */
export function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export function parseSkippedOperations(text: string): Parsed<SkippedOperation[]> {
  const ops = splitList(text);
  if (ops.length === 1 && ops[0] === 'none') return { value: [] };
  for (const op of ops) {
    if (!['c', 'u', 'd', 't'].includes(op)) {
      return { error: `unknown operation ${quote(op)}: expected a comma-separated subset of c, u, d, t (or none)` };
    }
  }
  return { value: [...new Set(ops)] as SkippedOperation[] };
}

/**
 * `include.schema.changes` / `exclude.schema.changes` entries. Flink CDC matches them partially
 * (`drop` means drop.column and drop.table, `column` every column change), so each entry expands
 * to the event types whose dotted name contains it as whole words.
 */
export function expandSchemaChangeTypes(entries: string[]): Parsed<SchemaChangeType[]> {
  const out = new Set<SchemaChangeType>();
  for (const entry of entries) {
    const words = entry.toLowerCase().split('.');
    const hits = SCHEMA_CHANGE_TYPES.filter((t) => {
      const parts = t.split('.');
      return parts.some((_p, i) => words.every((w, j) => parts[i + j] === w));
    });
    if (hits.length === 0) {
      return { error: `unknown schema change type ${quote(entry)}: expected one of ${SCHEMA_CHANGE_TYPES.join(', ')} or a part of one` };
    }
    for (const h of hits) out.add(h);
  }
  return { value: SCHEMA_CHANGE_TYPES.filter((t) => out.has(t)) };
}

/** `key=value,key2=value2` as in Flink CDC's transform `table-options`. */
export function parseTableOptions(text: string): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const item of splitList(text)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { error: `expected key=value pairs separated by commas, found ${quote(item)}` };
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return { value: out };
}

const TEMPORAL = new Set(['year', 'month', 'day', 'hour']);

/** One partition field: `col`, `bucket[N](col)`, `truncate[W](col)`, `year|month|day|hour(col)`. */
export function parsePartitionField(text: string): Parsed<PartitionField> {
  const t = text.trim();
  const expected = 'expected col, bucket[N](col), truncate[W](col), year(col), month(col), day(col) or hour(col)';
  if (/^[A-Za-z_][\w$]*$/.test(t)) return { value: { sourceColumn: t, transform: 'identity' } };
  const withParam = /^(bucket|truncate)\[\s*(\d+)\s*\]\(\s*([A-Za-z_][\w$]*)\s*\)$/i.exec(t);
  if (withParam) {
    const n = Number(withParam[2]);
    if (n < 1) return { error: `${withParam[1]!.toLowerCase()} needs a width of at least 1 in ${quote(t)}` };
    return { value: { sourceColumn: withParam[3]!, transform: `${withParam[1]!.toLowerCase()}[${n}]` } };
  }
  const temporal = /^(\w+)\(\s*([A-Za-z_][\w$]*)\s*\)$/.exec(t);
  if (temporal && TEMPORAL.has(temporal[1]!.toLowerCase())) {
    return { value: { sourceColumn: temporal[2]!, transform: temporal[1]!.toLowerCase() } };
  }
  return { error: `invalid partition field ${quote(t)}: ${expected}` };
}

/**
 * `partition.key`: `db.table1:id,bucket[4](id2);db.table2:day(ts)` (tables separated by `;`,
 * fields by `,`). Commas inside `[...]`/`(...)` never occur in valid fields, so a plain split works.
 */
export function parsePartitionKey(text: string): Parsed<Record<string, PartitionField[]>> {
  const out: Record<string, PartitionField[]> = {};
  for (const part of text.split(';').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const colon = part.indexOf(':');
    if (colon <= 0) return { error: `expected <namespace>.<table>:<fields> entries separated by ;, found ${quote(part)}` };
    const table = part.slice(0, colon).trim();
    if (table.split('.').length !== 2) return { error: `expected a <namespace>.<table> target before ":", found ${quote(table)}` };
    const fields: PartitionField[] = [];
    for (const f of splitList(part.slice(colon + 1))) {
      const parsed = parsePartitionField(f);
      if ('error' in parsed) return { error: `${parsed.error} (table ${quote(table)})` };
      fields.push(parsed.value);
    }
    if (fields.length === 0) return { error: `no partition fields for table ${quote(table)}` };
    out[table] = fields;
  }
  return { value: out };
}

export function parseShardColumns(entries: string[]): Parsed<ShardColumn[]> {
  for (const e of entries) {
    if (e !== '__schema_name__' && e !== '__table_name__') {
      return { error: `expected __table_name__ and/or __schema_name__, found ${quote(e)}` };
    }
  }
  // Key order is fixed (schema before table) so the same set always yields the same key.
  return { value: (['__schema_name__', '__table_name__'] as const).filter((c) => entries.includes(c)) };
}
