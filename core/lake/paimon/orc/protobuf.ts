/**
 * The protobuf wire format (varints, fixed32 / fixed64, length-delimited), just enough to read ORC's
 * tail messages (PostScript, Footer, StripeFooter). Messages decode into a map from field number to
 * raw values; the accessors below give them their orc_proto.proto meaning. Unknown fields are kept
 * and ignored, so newer writers' additions (encryption, statistics) cost nothing.
 */
import { OrcFormatError } from './errors';

/** A raw field value: varints as bigint, length-delimited and fixed-width fields as their bytes. */
export type ProtoValue = bigint | Uint8Array;
export type ProtoMessage = Map<number, ProtoValue[]>;

/** Reads one base-128 varint at `pos`; returns the value and the next position. */
export function readVarint(bytes: Uint8Array, pos: number, where: string): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw new OrcFormatError(`${where}: truncated varint`);
    const b = bytes[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new OrcFormatError(`${where}: varint longer than 10 bytes`);
}

/** Decodes one message. `where` names the message (and file section) in errors. */
export function decodeMessage(bytes: Uint8Array, where: string): ProtoMessage {
  const out: ProtoMessage = new Map();
  let pos = 0;
  while (pos < bytes.length) {
    const [key, next] = readVarint(bytes, pos, where);
    pos = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: ProtoValue;
    if (field === 0) throw new OrcFormatError(`${where}: field number 0 at byte ${pos}`);
    switch (wire) {
      case 0: {
        [value, pos] = readVarint(bytes, pos, where);
        break;
      }
      case 1:
      case 5: {
        const n = wire === 1 ? 8 : 4;
        if (pos + n > bytes.length) throw new OrcFormatError(`${where}: truncated fixed${n * 8} field ${field}`);
        value = bytes.subarray(pos, pos + n);
        pos += n;
        break;
      }
      case 2: {
        const [len, start] = readVarint(bytes, pos, where);
        const end = start + Number(len);
        if (len > BigInt(bytes.length) || end > bytes.length) throw new OrcFormatError(`${where}: field ${field} of ${len} bytes overruns the message`);
        value = bytes.subarray(start, end);
        pos = end;
        break;
      }
      default:
        throw new OrcFormatError(`${where}: unsupported protobuf wire type ${wire} for field ${field}`);
    }
    const list = out.get(field);
    if (list) list.push(value);
    else out.set(field, [value]);
  }
  return out;
}

function last(msg: ProtoMessage, field: number): ProtoValue | undefined {
  const list = msg.get(field);
  return list?.[list.length - 1];
}

/** An unsigned varint field as a number (lengths, offsets, counts, enums); `fallback` when absent. */
export function getUint(msg: ProtoMessage, field: number, where: string, fallback?: number): number {
  const v = last(msg, field);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new OrcFormatError(`${where}: missing field ${field}`);
  }
  if (typeof v !== 'bigint') throw new OrcFormatError(`${where}: field ${field} should be a varint`);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new OrcFormatError(`${where}: field ${field} = ${v} is out of range`);
  return Number(v);
}

/** A string field (UTF-8), or null when absent. */
export function getString(msg: ProtoMessage, field: number, where: string): string | null {
  const v = last(msg, field);
  if (v === undefined) return null;
  if (typeof v === 'bigint') throw new OrcFormatError(`${where}: field ${field} should be a string`);
  return new TextDecoder().decode(v);
}

/** Every occurrence of a repeated string field. */
export function getStrings(msg: ProtoMessage, field: number, where: string): string[] {
  return (msg.get(field) ?? []).map((v) => {
    if (typeof v === 'bigint') throw new OrcFormatError(`${where}: field ${field} should be a string`);
    return new TextDecoder().decode(v);
  });
}

/** Every occurrence of a repeated embedded-message field, decoded. */
export function getMessages(msg: ProtoMessage, field: number, where: string): ProtoMessage[] {
  return (msg.get(field) ?? []).map((v, i) => {
    if (typeof v === 'bigint') throw new OrcFormatError(`${where}: field ${field} should be a message`);
    return decodeMessage(v, `${where}.${field}[${i}]`);
  });
}

/** A repeated uint32 field, packed (`[packed = true]`, as ORC declares them) or not. */
export function getPackedUints(msg: ProtoMessage, field: number, where: string): number[] {
  const out: number[] = [];
  for (const v of msg.get(field) ?? []) {
    if (typeof v === 'bigint') {
      out.push(Number(v));
      continue;
    }
    let pos = 0;
    while (pos < v.length) {
      const [x, next] = readVarint(v, pos, where);
      out.push(Number(x));
      pos = next;
    }
  }
  return out;
}
