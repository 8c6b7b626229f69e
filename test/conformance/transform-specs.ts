/**
 * Conformance runner for Flink CDC's transform spec suite (flink-cdc-composer
 * src/test/resources/specs/*.yaml, read by TransformSpecsITCase.java at apache/flink-cdc 23fb108).
 *
 *   npx tsx test/conformance/transform-specs.ts [spec.yaml ...]
 *
 * For each case (`- do:`) it builds the harness's input table foo.bar.baz and its change events
 * (insert r1, update r1→r2, delete r2, insert r3 (all NULL but id_), delete r3; without r3 when
 * `non-null`), compiles the case's projection and filter with Tidemark's transform compiler,
 * evaluates every row image with it, prints the result the way Flink CDC's values sink prints it
 * (a CreateTableEvent with the result schema in Flink CDC type names, then DataChangeEvents) and
 * compares that with `expect` line by line; `expect-error` cases must fail to compile or evaluate.
 * Skipped: `ignore:` cases (upstream skips them too) and cases that cannot apply to a MySQL source
 * (ARRAY/MAP/ROW/VARIANT inputs or results, refused by Tidemark with `notForMySql`), each with its reason.
 * Every value is computed by core/pipeline/transform; this file only builds inputs and prints.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { isTidemarkError } from '../../core/errors';
import { parseTableOptions } from '../../core/pipeline/config/values';
import { bindRule, compileTransform, formatType, parseExpression, parseProjection, parseType, values, type EvalContext, type FlinkType, type Row, type RowMeta, type V } from '../../core/pipeline/transform';

const HERE = fileURLToPath(import.meta.url);
export const DEFAULT_SPEC_DIR = resolve(dirname(HERE), '../fixtures/flink-cdc-transform-specs');

interface InputColumn {
  name: string;
  type: FlinkType;
  comment?: string;
  defaultValue?: string;
}

/** TransformSpecsITCase.testInputSchema, in order. */
export const INPUT_COLUMNS: InputColumn[] = [
  { name: 'id_', type: parseType('BIGINT NOT NULL'), comment: 'Identifier' },
  { name: 'bool_', type: parseType('BOOLEAN'), comment: 'George', defaultValue: 'false' },
  ...['TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE'].map((ty) => ({ name: `${ty.toLowerCase()}_`, type: parseType(ty) })),
  { name: 'decimal_10_0_', type: parseType('DECIMAL(10, 0)') },
  { name: 'decimal_20_2_', type: parseType('DECIMAL(20, 2)') },
  { name: 'char_', type: parseType('CHAR(140)'), comment: "Let's Tweet", defaultValue: '...' },
  { name: 'varchar_', type: parseType('VARCHAR(140)') },
  { name: 'string_', type: parseType('STRING') },
  { name: 'binary_', type: parseType('BINARY(640)') },
  { name: 'varbinary_', type: parseType('VARBINARY(640)') },
  { name: 'bytes_', type: parseType('BYTES') },
  ...[0, 6, 9].map((p) => ({ name: `timestamp_${p}_`, type: parseType(`TIMESTAMP(${p})`) })),
  ...[0, 6, 9].map((p) => ({ name: `timestamp_tz_${p}_`, type: parseType(`TIMESTAMP(${p}) WITH TIME ZONE`) })),
  ...[0, 6, 9].map((p) => ({ name: `timestamp_ltz_${p}_`, type: parseType(`TIMESTAMP_LTZ(${p})`) })),
  { name: 'date_', type: parseType('DATE') },
  ...[0, 6, 9].map((p) => ({ name: `time_${p}_`, type: parseType(`TIME(${p})`) })),
  { name: 'array_int_', type: parseType('ARRAY<INT>') },
  { name: 'array_string_', type: parseType('ARRAY<STRING>') },
  { name: 'map_int_string_', type: parseType('MAP<INT, STRING>') },
  { name: 'map_string_array_string_', type: parseType('MAP<STRING, ARRAY<STRING>>') },
  { name: 'complex_row_', type: parseType('ROW<`name` STRING, `length` INT>') },
  { name: 'variant_', type: parseType('VARIANT') },
];

const bytes = (s: string) => new TextEncoder().encode(s);
const dec = (s: string) => values.parseDec(s)!;
/** TimestampData.fromMillis(ms, nanoOfMillisecond) → ns. */
const ts = (ms: number, nano: number) => BigInt(ms) * 1_000_000n + BigInt(nano);
const date = (y: number, m: number, d: number) => values.daysFromCivil(y, m, d);
const time = (h: number, m: number, s: number) => (h * 3600 + m * 60 + s) * 1e9;

/**
 * The harness's three records (values in the evaluator's forms, types.ts). Nested values (ARRAY,
 * MAP, ROW, VARIANT) are kept as plain data: no case that reads them is run (not for MySQL).
 */
function record(cells: (V | object)[]): Row {
  const row: Row = {};
  INPUT_COLUMNS.forEach((c, i) => (row[c.name] = (cells[i] ?? null) as V));
  return row;
}
const RECORD_1 = record([
  1n, true, 2, 3, 4, 5n, Math.fround(7.7), 88.88, dec('1234567890'), dec('123456789012345678.90'),
  'Alice', 'Zorro', 'From A to Z is Lie', bytes('Lorem ipsum'), bytes('dolor sit amet'), bytes('amet consectetuer'),
  ts(123456789, 123456), ts(234567891, 234561), ts(345678912, 345612),
  { n: ts(123456789, 123456), z: 'Asia/Shanghai' }, { n: ts(234567891, 234561), z: 'Europe/Berlin' }, { n: ts(345678912, 345612), z: 'America/Puerto_Rico' },
  ts(123456789, 123456), ts(234567891, 234561), ts(345678912, 345612),
  date(2000, 12, 31), time(19, 43, 17), time(21, 45, 3), time(3, 59, 59),
  [1, 1, 2, 3, 5, 8, 13], ['one', 'one', 'two', 'three', 'five'], { 1: 'one', 2: 'two', 3: 'three' },
  { one: ['O', 'N', 'E'], two: ['T', 'W', 'O'], three: ['T', 'H', 'R', 'E', 'E'] }, { name: 'Alice', length: 5 },
  { k: 1, object: { k: 'hello' }, array: [1, 2, { kk: 1.123 }] },
]);
const RECORD_2 = record([
  -1n, false, -2, -3, -4, -5n, Math.fround(-7.7), -88.88, dec('-9876543210'), dec('-987654321098765432.10'),
  '爱丽丝', '疯帽子', '天地玄黄宇宙洪荒', bytes('一二三四五'), bytes('六七八九十'), bytes('吾輩は猫である'),
  ts(723456789, 723456), ts(834567891, 834561), ts(945678912, 945612),
  { n: ts(723456789, 723456), z: 'Asia/Shanghai' }, { n: ts(834567891, 834561), z: 'Europe/Berlin' }, { n: ts(945678912, 945612), z: 'America/Puerto_Rico' },
  ts(723456789, 723456), ts(834567891, 834561), ts(945678912, 945612),
  date(2001, 1, 1), time(12, 34, 45), time(23, 45, 7), time(2, 30, 5),
  [2, 3, 5, 7, 11, 13, 17, 19], ['二', 'san', '五', 'qi', '十一'], { 1: 'yi', 2: 'er', 3: 'san' },
  { 一: ['Y', 'I'], 二: ['E', 'R'], 三: ['S', 'A', 'N'] }, { name: 'Derrida', length: 7 },
  [{ k: 1 }, 'hello', { k: 2 }],
]);
const RECORD_3 = record([0n]);

type Change = { op: 'INSERT'; after: Row } | { op: 'UPDATE'; before: Row; after: Row } | { op: 'DELETE'; before: Row };
const INPUT_EVENTS: Change[] = [
  { op: 'INSERT', after: RECORD_1 },
  { op: 'UPDATE', before: RECORD_1, after: RECORD_2 },
  { op: 'DELETE', before: RECORD_2 },
  { op: 'INSERT', after: RECORD_3 },
  { op: 'DELETE', before: RECORD_3 },
];

const TABLE = { namespace: 'foo', schema: 'bar', table: 'baz' };
const TABLE_ID = `${TABLE.namespace}.${TABLE.schema}.${TABLE.table}`;
const meta = (kind: RowMeta['dataEventType']): RowMeta => ({ namespaceName: TABLE.namespace, schemaName: TABLE.schema, tableName: TABLE.table, dataEventType: kind, opTs: null });

/** A value as Flink CDC's values sink prints it (Java toString; binary as base64). */
function show(v: V, ty: FlinkType): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (ty.kind === 'TIMESTAMP_LTZ') return values.formatTimestamp(v as bigint);
  return values.valueToText(v, ty) ?? 'null';
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const keyList = (s: string) => s.split(',').map((k) => k.trim()).filter(Boolean).join(';');

interface Spec {
  do: string;
  ignore?: string;
  projection?: string;
  filter?: string;
  'primary-key'?: string;
  'partition-key'?: string;
  'table-options'?: string;
  converters?: string;
  'time-zone'?: string;
  'decimal-precision-mode'?: string;
  'non-null'?: string | boolean;
  expect?: string;
  'expect-error'?: string;
}

export type Outcome = { status: 'pass' } | { status: 'fail'; detail: string } | { status: 'skip'; reason: string };
export interface CaseResult {
  file: string;
  name: string;
  outcome: Outcome;
}

function nestedReason(names: string[]): string {
  return `reads or returns ARRAY/MAP/ROW/VARIANT columns (${names.join(', ')}), which a MySQL source never produces`;
}

/** Runs one case and returns its printed events, or throws what Tidemark threw. */
function execute(spec: Spec): { lines: string[] } | { skip: string } {
  const ctx: EvalContext = {
    timeZone: spec['time-zone'] ?? 'UTC',
    decimalMode: (spec['decimal-precision-mode'] ?? 'up_to_19').toLowerCase() === 'up_to_38' ? 'up_to_38' : 'up_to_19',
    now: () => Date.now(),
  };
  // TransformSpecsITCase joins the projection's lines with ", ".
  const projection = spec.projection === undefined ? null : spec.projection.split('\n').join(', ');
  const filter = spec.filter ?? null;
  try {
    // What `validate` does: parse, then check the referenced columns against the table.
    compileTransform(projection, filter).outputColumns(INPUT_COLUMNS.map((c) => c.name));
    const items = projection === null ? null : parseProjection(projection);
    const bound = bindRule(items, filter === null ? null : parseExpression(filter), INPUT_COLUMNS, ctx);
    const nested = bound.columns.filter((c) => c.type.kind === 'NESTED').map((c) => c.name);
    if (nested.length > 0) return { skip: nestedReason(nested) };
    if (spec.converters) throw new Error(`converter-after-transform ${spec.converters} is not supported by Tidemark (validate refuses it)`);

    const byName = new Map(INPUT_COLUMNS.map((c) => [c.name.toLowerCase(), c]));
    const passthrough = new Map<string, InputColumn>();
    for (const item of items ?? [{ kind: 'star' as const }]) {
      if (item.kind === 'star') INPUT_COLUMNS.forEach((c) => passthrough.set(c.name, c));
      else if (item.expr.k === 'col' && byName.has(item.expr.name.toLowerCase()) && !passthrough.has(item.name)) passthrough.set(item.name, byName.get(item.expr.name.toLowerCase())!);
    }
    const columns = bound.columns.map((c) => {
      const src = passthrough.get(c.name);
      const extra = src ? `${src.comment !== undefined ? ` ${quote(src.comment)}` : ''}${src.defaultValue !== undefined ? ` ${quote(src.defaultValue)}` : ''}` : '';
      return `\`${c.name}\` ${formatType(c.type)}${extra}`;
    });
    const parsedOptions = parseTableOptions(spec['table-options'] ?? '');
    if ('error' in parsedOptions) throw new Error(`table-options: ${parsedOptions.error}`);
    const options = parsedOptions.value;
    const optionText = Object.keys(options).length ? `({${Object.entries(options).map(([k, v]) => `${k}=${v}`).join(', ')}})` : '()';
    const lines = [
      `CreateTableEvent{tableId=${TABLE_ID}, schema=columns={${columns.join(',')}}, primaryKeys=${keyList(spec['primary-key'] ?? '')}${spec['partition-key'] ? `, partitionKeys=${keyList(spec['partition-key'])}` : ''}, options=${optionText}}`,
    ];
    const image = (row: Row | null) => (row === null ? '[]' : `[${bound.columns.map((c) => show(row[c.name] ?? null, c.type)).join(', ')}]`);
    const emit = (op: string, before: Row | null, after: Row | null) => lines.push(`DataChangeEvent{tableId=${TABLE_ID}, before=${image(before)}, after=${image(after)}, op=${op}, meta=()}`);
    const nonNull = String(spec['non-null'] ?? 'false').toLowerCase() === 'true';
    for (const e of nonNull ? INPUT_EVENTS.slice(0, 3) : INPUT_EVENTS) {
      // Flink CDC's post-transform: an update whose before or after image is filtered out
      // becomes an insert of the after image or a delete of the before image.
      if (e.op === 'INSERT') {
        const a = bound.run(e.after, meta('+I'));
        if (a) emit('INSERT', null, a);
      } else if (e.op === 'DELETE') {
        const b = bound.run(e.before, meta('-D'));
        if (b) emit('DELETE', b, null);
      } else {
        const b = bound.run(e.before, meta('-U'));
        const a = bound.run(e.after, meta('+U'));
        if (b && a) emit('UPDATE', b, a);
        else if (a) emit('INSERT', null, a);
        else if (b) emit('DELETE', b, null);
      }
    }
    return { lines };
  } catch (e) {
    if (isTidemarkError(e) && (e.context as Record<string, unknown> | undefined)?.notForMySql) return { skip: e.message };
    throw e;
  }
}

export function runSpec(spec: Spec): Outcome {
  if (spec.ignore) return { status: 'skip', reason: `ignore: ${spec.ignore} (skipped upstream too)` };
  const expectsError = spec['expect-error'] !== undefined;
  let result: { lines: string[] } | { skip: string };
  try {
    result = execute(spec);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return expectsError ? { status: 'pass' } : { status: 'fail', detail: `error: ${message}` };
  }
  if ('skip' in result) return { status: 'skip', reason: result.skip };
  if (expectsError) return { status: 'fail', detail: `expected an error (${spec['expect-error']}), got ${result.lines.length} events` };
  const expected = (spec.expect ?? '').split('\n');
  for (let i = 0; i < Math.max(expected.length, result.lines.length); i++) {
    if (expected[i] !== result.lines[i]) {
      return { status: 'fail', detail: `line ${i + 1}:\n      expected: ${expected[i] ?? '(nothing)'}\n      actual:   ${result.lines[i] ?? '(nothing)'}` };
    }
  }
  return { status: 'pass' };
}

export function runSpecFiles(paths: string[], print: (line: string) => void = () => undefined): { results: CaseResult[]; summary: string } {
  const results: CaseResult[] = [];
  for (const path of paths) {
    const doc = parse(readFileSync(path, 'utf8')) as unknown;
    if (doc !== null && !Array.isArray(doc)) throw new Error(`${path}: expected a list of cases (- do: ...), found ${typeof doc}`);
    const cases = (doc ?? []) as Spec[];
    for (const spec of cases) {
      const outcome = runSpec(spec);
      const r = { file: basename(path), name: spec.do, outcome };
      results.push(r);
      if (outcome.status === 'pass') print(`PASS ${r.file} :: ${r.name}`);
      else if (outcome.status === 'skip') print(`SKIP ${r.file} :: ${r.name} — ${outcome.reason}`);
      else print(`FAIL ${r.file} :: ${r.name}\n      ${outcome.detail}`);
    }
  }
  const count = (s: Outcome['status']) => results.filter((r) => r.outcome.status === s).length;
  const summary = `transform specs: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`;
  print(summary);
  return { results, summary };
}

export function defaultSpecFiles(): string[] {
  return readdirSync(DEFAULT_SPEC_DIR).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(DEFAULT_SPEC_DIR, f));
}

if (process.argv[1] && resolve(process.argv[1]) === HERE) {
  const args = process.argv.slice(2);
  const { results } = runSpecFiles(args.length ? args : defaultSpecFiles(), (line) => console.log(line));
  process.exitCode = results.some((r) => r.outcome.status === 'fail') ? 1 : 0;
}
