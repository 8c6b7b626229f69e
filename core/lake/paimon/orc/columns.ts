/**
 * Column decoding (ORC Specification v1, "Column Encodings"). A column's PRESENT stream (absent when
 * nothing is null) says which rows have a value; the other streams hold only the non-null values.
 * Children of a struct have one entry per non-null struct, children of a list or map one per element.
 *
 * JS values follow avsc's Avro decoding so that manifest code reads both formats the same way:
 * BYTE / SHORT / INT / DATE → number, LONG → bigint, FLOAT / DOUBLE → number, STRING / CHAR /
 * VARCHAR → string, BINARY → Uint8Array, BOOLEAN → boolean, DECIMAL → decimal string,
 * TIMESTAMP / TIMESTAMP_INSTANT → bigint milliseconds since the epoch (the writer's wall clock read as
 * UTC, as Paimon's TIMESTAMP is), STRUCT → object by field name, LIST → array, MAP → Map.
 */
import { TidemarkError } from '../../../errors';
import { OrcFormatError } from './errors';
import { decodeBooleanRle, decodeByteRle, decodeIntRle } from './rle';
import { ORC_KIND_NAMES, OrcKind, OrcStreamKind, type OrcType, type StripeData } from './tail';

/** ORC timestamps count seconds from 2015-01-01 00:00:00. */
const TIMESTAMP_BASE_SECONDS = 1_420_070_400n;

interface Ctx {
  types: OrcType[];
  stripe: StripeData;
  where: string;
  file: string;
  /** The most values any column of the stripe can hold (see maxStripeValues). */
  maxValues: number;
  /** TIMESTAMP values as bigint nanoseconds since the epoch instead of milliseconds (Iceberg data files keep microseconds). */
  timestampNanos?: boolean;
}

/**
 * An upper bound on the values a stripe can encode: no ORC encoding packs more than 520 values per
 * byte (boolean RLE: a 2-byte run of 130 bytes × 8 bits), plus slack for streamless columns. Counts
 * come from the file (row counts, list lengths), so a corrupt count must fail here rather than make
 * the reader allocate or loop billions of times.
 */
export function maxStripeValues(stripe: StripeData, rows: number): number {
  let bytes = 0;
  for (const b of stripe.streams.values()) bytes += b.length;
  return Math.max(rows, 1024 + 520 * bytes);
}

function stream(ctx: Ctx, column: number, kind: number): Uint8Array | undefined {
  return ctx.stripe.streams.get(`${column}:${kind}`);
}

function required(ctx: Ctx, column: number, kind: number): Uint8Array {
  // A writer may omit an empty stream; decoding values from it then fails as truncated.
  return stream(ctx, column, kind) ?? new Uint8Array(0);
}

function rleVersion(ctx: Ctx, column: number): 1 | 2 {
  const enc = ctx.stripe.encodings[column];
  if (!enc) throw new OrcFormatError(`${ctx.where}: no column encoding for column ${column}`);
  if (enc.kind > 3) throw new OrcFormatError(`${ctx.where}: unknown column encoding ${enc.kind} for column ${column}`);
  return enc.kind <= 1 ? 1 : 2;
}

function isDictionary(ctx: Ctx, column: number): boolean {
  const kind = ctx.stripe.encodings[column]?.kind;
  return kind === 1 || kind === 3;
}

function ints(ctx: Ctx, column: number, kind: number, count: number, signed: boolean, what: string): bigint[] {
  const where = `${ctx.where} column ${column} ${what}`;
  return decodeIntRle(required(ctx, column, kind), count, signed, rleVersion(ctx, column), where);
}

function toSafeNumber(v: bigint, where: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new OrcFormatError(`${where}: ${v} is out of range`);
  return Number(v);
}

/** Byte strings of a STRING / BINARY column, direct (DATA + LENGTH) or dictionary (indexes into DICTIONARY_DATA). */
function byteStrings(ctx: Ctx, column: number, count: number): Uint8Array[] {
  const where = `${ctx.where} column ${column}`;
  const slices = (blob: Uint8Array, lengths: bigint[]): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let pos = 0;
    for (const l of lengths) {
      const len = toSafeNumber(l, where);
      if (pos + len > blob.length) throw new OrcFormatError(`${where}: string of ${len} bytes at ${pos} overruns its ${blob.length}-byte stream`);
      out.push(blob.subarray(pos, pos + len));
      pos += len;
    }
    return out;
  };
  if (isDictionary(ctx, column)) {
    const size = ctx.stripe.encodings[column]!.dictionarySize;
    const dict = slices(required(ctx, column, OrcStreamKind.DICTIONARY_DATA), ints(ctx, column, OrcStreamKind.LENGTH, size, false, 'LENGTH'));
    return ints(ctx, column, OrcStreamKind.DATA, count, false, 'DATA').map((i) => {
      const entry = dict[Number(i)];
      if (i >= BigInt(dict.length) || !entry) throw new OrcFormatError(`${where}: dictionary index ${i} of a ${dict.length}-entry dictionary`);
      return entry;
    });
  }
  return slices(required(ctx, column, OrcStreamKind.DATA), ints(ctx, column, OrcStreamKind.LENGTH, count, false, 'LENGTH'));
}

function floats(ctx: Ctx, column: number, count: number, width: 4 | 8): number[] {
  const data = required(ctx, column, OrcStreamKind.DATA);
  if (data.length < count * width) throw new OrcFormatError(`${ctx.where} column ${column}: ${count} values need ${count * width} bytes, the stream has ${data.length}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
  return out;
}

/** Unbounded zigzag base-128 varints (DECIMAL's DATA stream). */
function bigVarints(data: Uint8Array, count: number, where: string): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    let u = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= data.length) throw new OrcFormatError(`${where}: truncated decimal varint`);
      const b = data[pos++]!;
      u |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
      if (shift > 7n * 20n) throw new OrcFormatError(`${where}: decimal varint longer than 20 bytes`);
    }
    out.push((u >> 1n) ^ -(u & 1n));
  }
  return out;
}

function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString();
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Nanoseconds with trailing zeros folded into the low 3 bits (a count of zeros minus one). */
function decodeNanos(v: bigint): bigint {
  const zeros = Number(v & 7n);
  const base = v >> 3n;
  return zeros === 0 ? base : base * 10n ** BigInt(zeros + 1);
}

function values(ctx: Ctx, column: number, type: OrcType, count: number): unknown[] {
  const where = `${ctx.where} column ${column}`;
  switch (type.kind) {
    case OrcKind.BOOLEAN:
      return decodeBooleanRle(required(ctx, column, OrcStreamKind.DATA), count, `${where} DATA`);
    case OrcKind.BYTE:
      return [...decodeByteRle(required(ctx, column, OrcStreamKind.DATA), count, `${where} DATA`)].map((b) => (b << 24) >> 24);
    case OrcKind.SHORT:
    case OrcKind.INT:
    case OrcKind.DATE:
      return ints(ctx, column, OrcStreamKind.DATA, count, true, 'DATA').map((v) => toSafeNumber(v, where));
    case OrcKind.LONG:
      return ints(ctx, column, OrcStreamKind.DATA, count, true, 'DATA');
    case OrcKind.FLOAT:
      return floats(ctx, column, count, 4);
    case OrcKind.DOUBLE:
      return floats(ctx, column, count, 8);
    case OrcKind.STRING:
    case OrcKind.VARCHAR:
    case OrcKind.CHAR: {
      const decoder = new TextDecoder('utf-8', { fatal: true });
      return byteStrings(ctx, column, count).map((b) => {
        try {
          return decoder.decode(b);
        } catch {
          throw new OrcFormatError(`${where}: string is not valid UTF-8`);
        }
      });
    }
    case OrcKind.BINARY:
      // A copy: the bytes may be a view of the whole file (or a Node Buffer, whose slice is a view).
      return byteStrings(ctx, column, count).map((b) => new Uint8Array(b));
    case OrcKind.DECIMAL: {
      const unscaled = bigVarints(required(ctx, column, OrcStreamKind.DATA), count, where);
      const scales = ints(ctx, column, OrcStreamKind.SECONDARY, count, true, 'SECONDARY');
      return unscaled.map((u, i) => formatDecimal(u, Number(scales[i])));
    }
    case OrcKind.TIMESTAMP:
    case OrcKind.TIMESTAMP_INSTANT: {
      const seconds = ints(ctx, column, OrcStreamKind.DATA, count, true, 'DATA');
      const nanos = ints(ctx, column, OrcStreamKind.SECONDARY, count, false, 'SECONDARY');
      return seconds.map((s, i) => {
        const ns = decodeNanos(nanos[i]!);
        // Writers truncate epoch seconds toward zero, so a time before 1970 with a fraction of at
        // least a millisecond is one second earlier (the same rule as the C++ and Java readers).
        let secs = s + TIMESTAMP_BASE_SECONDS;
        if (secs < 0n && ns > 999_999n) secs -= 1n;
        return ctx.timestampNanos ? secs * 1_000_000_000n + ns : secs * 1000n + ns / 1_000_000n;
      });
    }
    case OrcKind.STRUCT: {
      if (type.fieldNames.length !== type.subtypes.length) throw new OrcFormatError(`${where}: struct has ${type.subtypes.length} children and ${type.fieldNames.length} names`);
      const children = type.subtypes.map((c) => readOrcColumn(ctx, c, count));
      const out: Record<string, unknown>[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const rec: Record<string, unknown> = {};
        type.fieldNames.forEach((name, k) => (rec[name] = children[k]![i]));
        out[i] = rec;
      }
      return out;
    }
    case OrcKind.LIST:
    case OrcKind.MAP: {
      const expected = type.kind === OrcKind.LIST ? 1 : 2;
      if (type.subtypes.length !== expected) throw new OrcFormatError(`${where}: ${ORC_KIND_NAMES[type.kind]} has ${type.subtypes.length} children`);
      const lengths = ints(ctx, column, OrcStreamKind.LENGTH, count, false, 'LENGTH').map((v) => toSafeNumber(v, where));
      const total = lengths.reduce((a, b) => a + b, 0);
      const children = type.subtypes.map((c) => readOrcColumn(ctx, c, total));
      const out: unknown[] = new Array(count);
      let pos = 0;
      for (let i = 0; i < count; i++) {
        const n = lengths[i]!;
        if (type.kind === OrcKind.LIST) out[i] = children[0]!.slice(pos, pos + n);
        else {
          const m = new Map<unknown, unknown>();
          for (let k = pos; k < pos + n; k++) m.set(children[0]![k], children[1]![k]);
          out[i] = m;
        }
        pos += n;
      }
      return out;
    }
    default:
      throw new TidemarkError('Unsupported', `${ctx.file}: ORC ${ORC_KIND_NAMES[type.kind] ?? `type kind ${type.kind}`} columns are not supported (column ${column})`, {
        path: ctx.file,
        feature: `orc type ${ORC_KIND_NAMES[type.kind] ?? type.kind}`,
      });
  }
}

/** Decodes `count` rows of column `column` of one stripe; nulls where PRESENT says so. */
export function readOrcColumn(ctx: Ctx, column: number, count: number): unknown[] {
  const type = ctx.types[column];
  if (!type) throw new OrcFormatError(`${ctx.where}: column ${column} is not in the footer's ${ctx.types.length} types`);
  if (count > ctx.maxValues) throw new OrcFormatError(`${ctx.where}: column ${column} claims ${count} values, more than the stripe's streams can hold`);
  if (type.subtypes.some((c) => c <= column || c >= ctx.types.length)) {
    // Types are numbered in pre-order, so children always follow their parent: this also rules out cycles.
    throw new OrcFormatError(`footer type ${column}: children ${type.subtypes.join(', ')} are not after it`);
  }
  const presentBytes = stream(ctx, column, OrcStreamKind.PRESENT);
  const present = presentBytes ? decodeBooleanRle(presentBytes, count, `${ctx.where} column ${column} PRESENT`) : null;
  const nonNull = present ? present.reduce((n, p) => n + (p ? 1 : 0), 0) : count;
  const vals = values(ctx, column, type, nonNull);
  if (!present) return vals;
  const out: unknown[] = new Array(count);
  let j = 0;
  for (let i = 0; i < count; i++) out[i] = present[i] ? vals[j++] : null;
  return out;
}

export type { Ctx as OrcColumnContext };
