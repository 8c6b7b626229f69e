/**
 * Paimon's system tables in SQL: `ns.t$snapshots`, `$schemas`, `$files`, `$options`, `$tags` and
 * `$audit_log`, with Java Paimon's column names, order and types (paimon-core
 * org.apache.paimon.table.system: SnapshotsTable, SchemasTable, FilesTable, OptionsTable, TagsTable,
 * AuditLogTable at apache/paimon master 5dacde5, 2026-08-22; older releases lack some of the last
 * columns). Each is read from the table's files and loaded into DuckDB as a small in-memory table
 * (core/query/paimon-view.ts), so it costs memory in proportion to its rows, as Paimon views do.
 *
 * Differences from Java, on purpose:
 *  - Java prints commit and update times in the JVM's zone (ZoneId.systemDefault()); here every
 *    time is a TIMESTAMP in UTC, the same on every machine. `creation_time` ($files) and
 *    `create_time` ($tags) are LocalDateTimes the writer stored, shown as stored.
 *  - `$files`.`first_row_id` (row tracking) and `write_cols` (data evolution) are always NULL:
 *    Tidemark's manifest reader does not keep them (neither feature is read).
 *  - Binary values in `$files` key and stats texts are hex (Java prints a byte[]'s identity).
 *  - Time travel (`FOR VERSION AS OF`, `FOR TIMESTAMP AS OF`, a tag) applies to `$files` and
 *    `$audit_log`, as Java's `scan.snapshot-id` / `scan.tag-name` options do; the others list the
 *    whole table and refuse it.
 */
import { TidemarkError } from '../errors';
import type { IcebergType, NestedField } from '../lake';
import { formatTimestamp, parseDate, parseTime, parseTimestamp, bytesToHex } from '../lake';
import {
  listPaimonFiles,
  readPaimonSchema,
  readPaimonSchemaRecords,
  readPaimonSnapshotRecords,
  readPaimonTagRecords,
  scanPaimonAuditLog,
  type PaimonDataType,
  type PaimonSnapshotSelector,
} from '../lake/paimon';
import type { QueryEngine } from './engine';
import { registerRowsView } from './paimon-view';
import type { TableRef, TimeTravel } from './sql-rewrite';

/** The system tables Tidemark answers, in Java's documentation order. */
export const PAIMON_SYSTEM_TABLES = ['snapshots', 'schemas', 'options', 'audit_log', 'files', 'tags'] as const;
export type PaimonSystemTable = (typeof PAIMON_SYSTEM_TABLES)[number];

const SUPPORTED = PAIMON_SYSTEM_TABLES.map((t) => `$${t}`).join(', ');

/** A warehouse table as warehouse-sql.ts lists it. */
export interface WarehouseTableInfo {
  path: string;
  format: string;
}

/**
 * Splits a reference whose last part is `table$name` (Paimon's system-table syntax: `ods.orders$files`,
 * or quoted `"orders$files"`) into the base table's name parts and the system table name (as
 * written). Null when the last part has no `$` after its first character.
 */
export function splitSystemTableName(parts: string[]): { base: string[]; system: string } | null {
  const last = parts[parts.length - 1]!;
  const at = last.indexOf('$');
  if (at <= 0) return null;
  return { base: [...parts.slice(0, -1), last.slice(0, at)], system: last.slice(at + 1) };
}

/**
 * The hook warehouse-sql.ts calls for a reference that names no table: when it is `t$name` over a
 * table of the warehouse, registers that system table and returns its view name; null when the
 * reference has no `$` (the caller reports the unknown table). Unknown `$name`s, `$` on an Iceberg
 * table and a missing base table are NotFound, naming what exists.
 */
export async function resolvePaimonSystemTable(
  engine: QueryEngine,
  warehouse: string,
  ref: TableRef,
  tables: Map<string, WarehouseTableInfo>,
): Promise<string | null> {
  const split = splitSystemTableName(ref.parts);
  if (!split) return null;
  const full = ref.parts.join('.');
  const baseName = split.base.join('.');
  const table = tables.get(baseName);
  if (!table) {
    throw new TidemarkError('NotFound', `table ${baseName} not found in warehouse ${warehouse} (system table ${full})`, { table: baseName, warehouse });
  }
  if (table.format !== 'paimon') {
    throw new TidemarkError('NotFound', `${full}: ${baseName} is an ${table.format === 'iceberg' ? 'Iceberg' : table.format} table; system tables (${SUPPORTED}) exist on Paimon tables only`, {
      table: baseName,
      systemTable: split.system,
    });
  }
  const system = split.system.toLowerCase() as PaimonSystemTable;
  if (!PAIMON_SYSTEM_TABLES.includes(system)) {
    throw new TidemarkError('NotFound', `${full}: no system table $${split.system} on Paimon table ${baseName}; supported: ${SUPPORTED}`, {
      table: baseName,
      systemTable: split.system,
    });
  }
  return (await registerPaimonSystemTable(engine, table.path, system, ref.timeTravel, full)).view;
}

function selectorOf(travel: TimeTravel | null): PaimonSnapshotSelector {
  if (!travel) return {};
  if (travel.kind === 'version') return { snapshotId: travel.snapshotId };
  if (travel.kind === 'ref') return { tag: travel.name };
  return { asOfTimestampMs: travel.timestampMs };
}

/** Registers one system table of the Paimon table at `root`; `name` is how the SQL named it (for errors). */
export async function registerPaimonSystemTable(
  engine: QueryEngine,
  root: string,
  system: PaimonSystemTable,
  travel: TimeTravel | null,
  name = `${root}$${system}`,
): Promise<{ view: string; columns: { name: string; type: string }[] }> {
  if (travel && system !== 'files' && system !== 'audit_log') {
    throw new TidemarkError('InvalidInput', `${name}: FOR … AS OF applies to $files and $audit_log; $${system} describes every version of the table`, { systemTable: system });
  }
  const { fields, rows } = await systemTableRows(engine, root, system, selectorOf(travel));
  return registerRowsView(engine, fields, rows);
}

let nextId = 0;
const col = (name: string, type: IcebergType, required = false): NestedField => ({ id: ++nextId, name, type, required });
const list = (element: IcebergType): IcebergType => ({ type: 'list', elementId: ++nextId, element, elementRequired: false });

const SNAPSHOTS: NestedField[] = [
  col('snapshot_id', 'long', true),
  col('schema_id', 'long', true),
  col('commit_user', 'string', true),
  col('commit_identifier', 'long', true),
  col('commit_kind', 'string', true),
  col('commit_time', 'timestamp', true),
  col('base_manifest_list', 'string', true),
  col('delta_manifest_list', 'string', true),
  col('changelog_manifest_list', 'string'),
  col('total_record_count', 'long'),
  col('delta_record_count', 'long'),
  col('changelog_record_count', 'long'),
  col('watermark', 'long'),
  col('next_row_id', 'long'),
  col('operation', 'string'),
  col('writer_version', 'string'),
];

const SCHEMAS: NestedField[] = [
  col('schema_id', 'long', true),
  col('fields', 'string', true),
  col('partition_keys', 'string', true),
  col('primary_keys', 'string', true),
  col('options', 'string', true),
  col('comment', 'string'),
  col('update_time', 'timestamp', true),
];

const OPTIONS: NestedField[] = [col('key', 'string', true), col('value', 'string', true)];

const TAGS: NestedField[] = [
  col('tag_name', 'string', true),
  col('snapshot_id', 'long', true),
  col('schema_id', 'long', true),
  col('commit_time', 'timestamp', true),
  col('record_count', 'long'),
  col('create_time', 'timestamp'),
  col('time_retained', 'string'),
];

const FILES: NestedField[] = [
  col('partition', 'string'),
  col('bucket', 'int', true),
  col('file_path', 'string', true),
  col('file_format', 'string', true),
  col('schema_id', 'long', true),
  col('level', 'int', true),
  col('record_count', 'long', true),
  col('file_size_in_bytes', 'long', true),
  col('min_key', 'string'),
  col('max_key', 'string'),
  col('null_value_counts', 'string', true),
  col('min_value_stats', 'string', true),
  col('max_value_stats', 'string', true),
  col('min_sequence_number', 'long'),
  col('max_sequence_number', 'long'),
  col('creation_time', 'timestamp'),
  // Java's own spelling (FilesTable field 16), camel case among snake-case names.
  col('deleteRowCount', 'long'),
  col('file_source', 'string'),
  col('first_row_id', 'long'),
  col('write_cols', list('string')),
];

const ROW_KIND: NestedField = col('rowkind', 'string', true);
const SEQUENCE_NUMBER: NestedField = col('_SEQUENCE_NUMBER', 'long', true);

/** Epoch milliseconds as a canonical TIMESTAMP value (UTC wall clock). */
const timestampOf = (ms: number | null) => (ms === null ? null : formatTimestamp(BigInt(ms) * 1000n, false));

type Row = Record<string, unknown>;

async function systemTableRows(engine: QueryEngine, root: string, system: PaimonSystemTable, sel: PaimonSnapshotSelector): Promise<{ fields: NestedField[]; rows: Row[] }> {
  const storage = engine.storage;
  switch (system) {
    case 'snapshots': {
      const rows = (await readPaimonSnapshotRecords(storage, root)).map(({ snapshot: s, nextRowId, operation, writerVersion }) => ({
        snapshot_id: s.id,
        schema_id: BigInt(s.schemaId),
        commit_user: s.commitUser,
        commit_identifier: s.commitIdentifier === '' ? null : BigInt(s.commitIdentifier),
        commit_kind: s.commitKind,
        commit_time: timestampOf(s.timeMillis),
        base_manifest_list: s.baseManifestList,
        delta_manifest_list: s.deltaManifestList,
        changelog_manifest_list: s.changelogManifestList,
        total_record_count: s.totalRecordCount,
        delta_record_count: s.deltaRecordCount,
        changelog_record_count: s.changelogRecordCount,
        watermark: s.watermark === null ? null : BigInt(s.watermark),
        next_row_id: nextRowId,
        operation,
        writer_version: writerVersion,
      }));
      return { fields: SNAPSHOTS, rows };
    }
    case 'schemas': {
      const rows = (await readPaimonSchemaRecords(storage, root)).map((s) => ({
        schema_id: BigInt(s.schemaId),
        fields: s.fieldsJson,
        partition_keys: s.partitionKeysJson,
        primary_keys: s.primaryKeysJson,
        options: s.optionsJson,
        comment: s.comment,
        update_time: timestampOf(s.timeMillis),
      }));
      return { fields: SCHEMAS, rows };
    }
    case 'options': {
      // The latest schema's options, as written (options not written take their defaults).
      const schema = await readPaimonSchema(storage, root);
      return { fields: OPTIONS, rows: Object.entries(schema.options).map(([key, value]) => ({ key, value: String(value) })) };
    }
    case 'tags': {
      const rows = (await readPaimonTagRecords(storage, root)).map((t) => ({
        tag_name: t.name,
        snapshot_id: t.snapshot.id,
        schema_id: BigInt(t.snapshot.schemaId),
        commit_time: timestampOf(t.snapshot.timeMillis),
        record_count: t.snapshot.totalRecordCount,
        create_time: t.createTimeMicros === null ? null : formatTimestamp(t.createTimeMicros, false),
        time_retained: t.timeRetained,
      }));
      return { fields: TAGS, rows };
    }
    case 'files':
      return { fields: FILES, rows: await filesRows(engine, root, sel) };
    case 'audit_log': {
      const log = await scanPaimonAuditLog(storage, root, sel);
      const clash = log.columns.find((c) => c.name === ROW_KIND.name || c.name === SEQUENCE_NUMBER.name);
      if (clash) throw new TidemarkError('Unsupported', `${root}: column ${clash.name} has the name of an $audit_log system column`, { column: clash.name });
      // Java adds _SEQUENCE_NUMBER after rowkind when the table sets this option (primary-key tables).
      const withSeq = log.schema.options['table-read.sequence-number.enabled'] === 'true' && log.schema.primaryKeys.length > 0;
      const rows = log.rows.map((r, i) => ({ ...r, rowkind: log.rowKinds[i], ...(withSeq ? { _SEQUENCE_NUMBER: log.sequenceNumbers[i] } : {}) }));
      return { fields: [ROW_KIND, ...(withSeq ? [SEQUENCE_NUMBER] : []), ...log.columns], rows };
    }
  }
}

async function filesRows(engine: QueryEngine, root: string, sel: PaimonSnapshotSelector): Promise<Row[]> {
  const files = await listPaimonFiles(engine.storage, root, sel);
  // Stats are shown under the version's schema, matched to each file's schema by field id (Java:
  // SimpleStatsEvolutions over the table schema): a renamed column keeps its stats; a column the
  // file's schema lacks has null bounds and, when the schemas differ, a null count of every row.
  const schema = await readPaimonSchema(engine.storage, root, sel);
  const schemas = new Map((await readPaimonSchemaRecords(engine.storage, root)).map((r) => [r.schemaId, r.schema]));
  const shape = (s: { paimonFields: { id: number; name: string }[] }) => JSON.stringify(s.paimonFields.map((f) => [f.id, f.name]));
  const typeOf = new Map(schema.paimonFields.map((f) => [f.name, f.type]));
  const partitionTypes = schema.partitionKeys.map((k) => typeOf.get(k)!);
  const keyNames = schema.primaryKeys.filter((k) => !schema.partitionKeys.includes(k));
  const keyTypes = (keyNames.length > 0 ? keyNames : schema.primaryKeys).map((k) => typeOf.get(k)!);
  // TreeMap order: by name.
  const statFields = [...schema.paimonFields].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files.map((f) => {
    const fileSchema = schemas.get(f.schemaId) ?? schema;
    const evolved = shape(fileSchema) !== shape(schema);
    const inFile = statFields.map((tf) => fileSchema.paimonFields.find((x) => x.id === tf.id)?.name ?? null);
    const stats = (value: (i: number, nameInFile: string) => string, missing: string) =>
      `{${statFields.map((tf, i) => `${tf.name}=${inFile[i] === null ? missing : value(i, inFile[i]!)}`).join(', ')}}`;
    const count = (v: number | null | undefined) => (v === null || v === undefined ? 'null' : String(v));
    const keyText = (k: Record<string, unknown> | null) => (k === null ? null : `[${Object.values(k).map((v, i) => internalText(v, keyTypes[i]!)).join(', ')}]`);
    return {
      partition: `{${schema.partitionKeys.map((k, i) => castText(f.partition[k] ?? null, partitionTypes[i]!)).join(', ')}}`,
      bucket: f.bucket,
      file_path: f.path,
      file_format: f.fileName.slice(f.fileName.lastIndexOf('.') + 1),
      schema_id: BigInt(f.schemaId),
      level: f.level,
      record_count: BigInt(f.recordCount),
      file_size_in_bytes: BigInt(f.fileSizeBytes),
      min_key: keyText(f.minKey),
      max_key: keyText(f.maxKey),
      null_value_counts: stats((_, n) => count(f.valueStats.nullCounts[n]), evolved ? String(f.recordCount) : 'null'),
      min_value_stats: stats((i, n) => internalText(f.valueStats.min[n] ?? null, statFields[i]!.type), 'null'),
      max_value_stats: stats((i, n) => internalText(f.valueStats.max[n] ?? null, statFields[i]!.type), 'null'),
      min_sequence_number: f.minSequenceNumber,
      max_sequence_number: f.maxSequenceNumber,
      creation_time: timestampOf(f.creationTimeMs),
      deleteRowCount: f.deleteRowCount === null ? null : BigInt(f.deleteRowCount),
      file_source: f.fileSource === null ? null : f.fileSource.toUpperCase(),
      first_row_id: null,
      write_cols: null,
    };
  });
}

/** Java's Double.toString / Float.toString: shortest digits, ".0" for whole numbers, E notation outside [1e-3, 1e7). */
export function javaFloatText(v: number, float32: boolean): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  let digits = String(v);
  if (float32) {
    // The shortest decimal that reads back as the same float32.
    for (let p = 1; p <= 9; p++) {
      const t = v.toPrecision(p);
      if (Math.fround(Number(t)) === v) {
        digits = String(Number(t));
        break;
      }
    }
  }
  const n = Number(digits);
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) return Number.isInteger(n) ? `${n}.0` : String(n);
  const [mantissa, exp] = n.toExponential().split('e');
  return `${mantissa!.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exp)}`;
}

/** Java's LocalDateTime.toString: seconds only when not zero, then 3, 6 or 9 fraction digits. */
function javaLocalDateTime(micros: bigint): string {
  const text = formatTimestamp(micros, false); // YYYY-MM-DDTHH:MM:SS.ffffff
  const [date, time] = text.split('T');
  const [hms, frac = '000000'] = time!.split('.');
  const f = frac.padEnd(6, '0');
  const fraction = f === '000000' ? '' : f.endsWith('000') ? `.${f.slice(0, 3)}` : `.${f}`;
  const secondsZero = hms!.endsWith(':00') && fraction === '';
  return `${date}T${secondsZero ? hms!.slice(0, 5) : hms}${fraction}`;
}

/**
 * A key or stats value as Java prints Paimon's internal value (InternalRowUtils.get, then
 * toString): DATE as days since 1970, TIME as milliseconds of the day, timestamps as
 * LocalDateTime text, floats as Java's, nested values null (Paimon keeps no stats for them).
 */
function internalText(v: unknown, t: PaimonDataType | undefined): string {
  if (v === null || v === undefined || t === undefined) return 'null';
  switch (t.root) {
    case 'DATE':
      return String(parseDate(String(v)));
    case 'TIME':
      return String(parseTime(String(v)) / 1000n);
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return javaLocalDateTime(parseTimestamp(String(v)));
    case 'FLOAT':
    case 'DOUBLE':
      return javaFloatText(Number(v), t.root === 'FLOAT');
    case 'BINARY':
    case 'VARBINARY':
    case 'BYTES':
      return v instanceof Uint8Array ? bytesToHex(v) : String(v);
    case 'ROW':
    case 'ARRAY':
    case 'MAP':
    case 'MULTISET':
      return 'null';
    default:
      return String(v);
  }
}

/** A partition value as Paimon's cast to STRING prints it (DATE as YYYY-MM-DD, timestamps with a space). */
function castText(v: unknown, t: PaimonDataType | undefined): string {
  if (v === null || v === undefined || t === undefined) return 'null';
  switch (t.root) {
    case 'DATE':
      return String(v);
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return javaLocalDateTime(parseTimestamp(String(v))).replace('T', ' ');
    default:
      return internalText(v, t);
  }
}

