import { Type, makeVector, type Data, type Field } from 'apache-arrow';
import { TidemarkError } from '../errors';
import { isList, isMap, isStruct, parseDecimalType, type IcebergType, type NestedField } from './model';
import { convertVariantData } from './variant';
import { bytesToUuid, formatDate, formatDecimal, formatTime, formatTimestamp, formatTimestampNanos } from './values';

/**
 * Arrow (as produced by parquet-wasm from Parquet) → canonical row values (values.ts), typed by the
 * Iceberg field so that promotions (int→long, float→double, decimal widening) come out as the
 * table's type. Struct children are matched by `PARQUET:field_id`; a child missing from the file
 * takes its `initial-default` (spec: "Default values"). Timestamps and decimals are read from the
 * raw buffers because Arrow JS's getters round timestamps to milliseconds.
 */
export function arrowFieldId(field: Field): number | null {
  const raw = field.metadata.get('PARQUET:field_id');
  return raw === undefined ? null : Number(raw);
}

const UNIT_TO_MICROS = [1_000_000n, 1_000n, 1n] as const; // SECOND, MILLISECOND, MICROSECOND

function toMicros(raw: bigint | number, unit: number): bigint {
  if (unit === 3) return BigInt(raw) / 1000n; // NANOSECOND: Iceberg v2 keeps microseconds
  return BigInt(raw) * UNIT_TO_MICROS[unit as 0 | 1 | 2];
}

/** Converts one Arrow chunk into canonical values for `type`. `where` names the column in errors. */
export function convertArrowData(data: Data, type: IcebergType, where: string): unknown[] {
  const n = data.length;
  const out: unknown[] = new Array(n);
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  const t = data.type;
  const values = data.values as ArrayLike<number | bigint> & { subarray?: unknown };
  // Iceberg v3 types that are not a plain mapping of the Arrow type.
  if (type === 'variant') return convertVariantData(data, where);
  if (type === 'unknown') return out.fill(null); // spec: an unknown-typed column is always null
  if (typeof type === 'string' && /^(geometry|geography)\b/.test(type)) {
    throw new TidemarkError('Unsupported', `${where}: Iceberg ${type} values are not supported yet (no WKB decoder)`, { feature: type });
  }
  // Arrow JS slices value and offset buffers in Data.slice (only bitmaps keep `data.offset`, which
  // getValid applies), so element i is values[i] even in a sliced chunk.
  switch (t.typeId) {
    case Type.Null:
      return out.fill(null);
    case Type.Bool:
    case Type.Int:
    case Type.Float: {
      const vec = makeVector(data);
      for (let i = 0; i < n; i++) {
        if (!valid(i)) out[i] = null;
        else {
          const v = vec.get(i) as number | bigint | boolean;
          out[i] = type === 'long' ? BigInt(v as number) : typeof v === 'bigint' ? Number(v) : v;
        }
      }
      return out;
    }
    case Type.Decimal: {
      const dec = parseDecimalType(type);
      const scale = dec?.scale ?? (t as unknown as { scale: number }).scale;
      const words = data.values as Uint32Array;
      const stride = (t as unknown as { bitWidth: number }).bitWidth / 32;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) out[i] = null;
        else {
          let v = 0n;
          for (let w = stride - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[i * stride + w]!);
          out[i] = formatDecimal(BigInt.asIntN(stride * 32, v), scale);
        }
      }
      return out;
    }
    case Type.Date: {
      const dayUnit = (t as unknown as { unit: number }).unit === 0;
      for (let i = 0; i < n; i++) {
        const raw = Number(values[i]);
        out[i] = valid(i) ? formatDate(dayUnit ? raw : Math.floor(raw / 86_400_000)) : null;
      }
      return out;
    }
    case Type.Time: {
      const unit = (t as unknown as { unit: number }).unit;
      for (let i = 0; i < n; i++) out[i] = valid(i) ? formatTime(toMicros(values[i]!, unit)) : null;
      return out;
    }
    case Type.Timestamp: {
      const unit = (t as unknown as { unit: number }).unit;
      if (type === 'timestamp_ns' || type === 'timestamptz_ns') {
        // v3 nanosecond timestamps keep all 9 digits (other units are scaled up exactly).
        const scale = [1_000_000_000n, 1_000_000n, 1_000n, 1n][unit]!;
        for (let i = 0; i < n; i++) out[i] = valid(i) ? formatTimestampNanos(BigInt(values[i]!) * scale, type === 'timestamptz_ns') : null;
        return out;
      }
      const zoned = type === 'timestamptz' || (type !== 'timestamp' && Boolean((t as unknown as { timezone: string | null }).timezone));
      for (let i = 0; i < n; i++) out[i] = valid(i) ? formatTimestamp(toMicros(values[i]!, unit), zoned) : null;
      return out;
    }
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary: {
      const vec = makeVector(data);
      for (let i = 0; i < n; i++) {
        if (!valid(i)) out[i] = null;
        else {
          const v = vec.get(i) as string | Uint8Array;
          out[i] = type === 'uuid' && v instanceof Uint8Array ? bytesToUuid(v) : v instanceof Uint8Array ? new Uint8Array(v) : v;
        }
      }
      return out;
    }
    case Type.Struct: {
      if (!isStruct(type)) break;
      const children = t.children as Field[];
      const columns = type.fields.map((f) => {
        const idx = children.findIndex((c) => arrowFieldId(c) === f.id);
        if (idx < 0) return null;
        return convertArrowData(data.children[idx]!, f.type, `${where}.${f.name}`);
      });
      for (let i = 0; i < n; i++) {
        if (!valid(i)) {
          out[i] = null;
          continue;
        }
        const row: Record<string, unknown> = {};
        type.fields.forEach((f: NestedField, k) => {
          row[f.name] = columns[k] ? columns[k][i] : (f.initialDefault ?? null);
        });
        out[i] = row;
      }
      return out;
    }
    case Type.List:
    case Type.LargeList: {
      if (!isList(type)) break;
      const child = convertArrowData(data.children[0]!, type.element, `${where}.element`);
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      for (let i = 0; i < n; i++) out[i] = valid(i) ? child.slice(Number(offsets[i]), Number(offsets[i + 1])) : null;
      return out;
    }
    case Type.Map: {
      if (!isMap(type)) break;
      const entries = data.children[0]!;
      const keys = convertArrowData(entries.children[0]!, type.key, `${where}.key`);
      const vals = convertArrowData(entries.children[1]!, type.value, `${where}.value`);
      const offsets = data.valueOffsets as Int32Array;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) out[i] = null;
        else {
          const pairs: { key: unknown; value: unknown }[] = [];
          for (let k = offsets[i]!; k < offsets[i + 1]!; k++) pairs.push({ key: keys[k], value: vals[k] });
          out[i] = pairs;
        }
      }
      return out;
    }
  }
  throw new TidemarkError('Unsupported', `${where}: cannot read Arrow type ${String(t)} as Iceberg ${typeof type === 'string' ? type : type.type}`);
}
