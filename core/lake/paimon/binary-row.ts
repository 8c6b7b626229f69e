import { TidemarkError } from '../../errors';
import { formatDate, formatDecimal, formatTime, formatTimestamp, bytesToBigInt } from '../values';
import type { PaimonDataType } from './schema';

/**
 * Paimon's BinaryRow, as serialized in manifests (partitions, min/max keys, key and value stats):
 *   4-byte big-endian arity, then the row: a null-bit set of ceil((arity + 8) / 64) × 8 bytes whose
 *   first 8 bits hold the RowKind and bit 8 + i marks field i null (little-endian bit order), then one
 *   8-byte little-endian slot per field, then a variable-length part.
 * Fixed-width values sit in their slot. Strings, binaries and non-compact decimals (precision > 18)
 * with at most 7 bytes are inlined: the slot's top bit is set, the next 7 bits hold the length and
 * the bytes fill the slot from its start; longer ones store (offset << 32 | length), offset from the
 * row start. Compact timestamps (precision ≤ 3) are epoch millis in the slot; others store
 * (offset << 32 | nanos-of-milli) and 8 bytes of millis at offset.
 * Values come out canonical (core/lake/values.ts). Nested values are not decoded (Paimon collects
 * no stats for them): they read as null.
 */
export function decodeBinaryRow(bytes: Uint8Array, types: PaimonDataType[], where: string): unknown[] {
  const bad = (what: string): never => {
    throw new TidemarkError('DataInvalid', `${where}: malformed BinaryRow: ${what}`);
  };
  if (bytes.length < 4) bad(`expected at least 4 bytes, found ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const arity = view.getInt32(0, false);
  if (arity < 0 || arity > 100_000) bad(`impossible arity ${arity}`);
  const base = 4;
  const nullBytes = Math.floor((arity + 63 + 8) / 64) * 8;
  const fixedEnd = base + nullBytes + arity * 8;
  if (fixedEnd > bytes.length) bad(`arity ${arity} needs ${fixedEnd - base} bytes, found ${bytes.length - base}`);
  const out: unknown[] = [];
  const n = Math.min(arity, types.length);
  for (let i = 0; i < n; i++) {
    const bit = i + 8;
    if (bytes[base + (bit >> 3)]! & (1 << (bit & 7))) {
      out.push(null);
      continue;
    }
    const slot = base + nullBytes + i * 8;
    out.push(readField(bytes, view, base, slot, types[i]!, bad));
  }
  for (let i = n; i < types.length; i++) out.push(null);
  return out;
}

function readVarBytes(bytes: Uint8Array, view: DataView, base: number, slot: number, bad: (w: string) => never): Uint8Array {
  const word = view.getBigUint64(slot, true);
  if (word & 0x8000_0000_0000_0000n) {
    const len = Number((word >> 56n) & 0x7fn);
    if (len > 7) bad(`inline length ${len} at byte ${slot}`);
    return bytes.slice(slot, slot + len);
  }
  const offset = Number(word >> 32n);
  const len = Number(word & 0xffff_ffffn);
  if (base + offset + len > bytes.length) bad(`variable part [${offset}, +${len}) beyond ${bytes.length - base} bytes`);
  return bytes.slice(base + offset, base + offset + len);
}

function readField(bytes: Uint8Array, view: DataView, base: number, slot: number, t: PaimonDataType, bad: (w: string) => never): unknown {
  switch (t.root) {
    case 'BOOLEAN':
      return bytes[slot] !== 0;
    case 'TINYINT':
      return view.getInt8(slot);
    case 'SMALLINT':
      return view.getInt16(slot, true);
    case 'INT':
      return view.getInt32(slot, true);
    case 'DATE':
      return formatDate(view.getInt32(slot, true));
    case 'TIME':
      // Paimon TIME is milliseconds of the day in an int.
      return formatTime(BigInt(view.getInt32(slot, true)) * 1000n);
    case 'BIGINT':
      return view.getBigInt64(slot, true);
    case 'FLOAT':
      return view.getFloat32(slot, true);
    case 'DOUBLE':
      return view.getFloat64(slot, true);
    case 'DECIMAL': {
      const scale = t.scale ?? 0;
      if ((t.precision ?? 10) <= 18) return formatDecimal(view.getBigInt64(slot, true), scale);
      return formatDecimal(bytesToBigInt(readVarBytes(bytes, view, base, slot, bad)), scale);
    }
    case 'CHAR':
    case 'VARCHAR':
    case 'STRING':
      return new TextDecoder().decode(readVarBytes(bytes, view, base, slot, bad));
    case 'BINARY':
    case 'VARBINARY':
    case 'BYTES':
      return readVarBytes(bytes, view, base, slot, bad);
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ': {
      const zoned = t.root === 'TIMESTAMP_LTZ';
      if ((t.precision ?? 6) <= 3) return formatTimestamp(view.getBigInt64(slot, true) * 1000n, zoned);
      const word = view.getBigUint64(slot, true);
      const offset = Number(word >> 32n);
      const nanoOfMilli = word & 0xffff_ffffn;
      if (base + offset + 8 > bytes.length) bad(`timestamp at offset ${offset} beyond ${bytes.length - base} bytes`);
      const millis = view.getBigInt64(base + offset, true);
      return formatTimestamp(millis * 1000n + nanoOfMilli / 1000n, zoned);
    }
    default:
      return null;
  }
}
