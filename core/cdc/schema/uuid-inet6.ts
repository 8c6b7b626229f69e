/**
 * MariaDB's UUID (10.7+), INET4 (10.10+) and INET6 (10.5+) types: the text the server gives for a value, made from
 * the 16 bytes a binlog row image carries. Storage engines and the binlog see both types as
 * BINARY(16) (with FULL row metadata zongji names them `binary(16)` and hands over the bytes), while
 * the snapshot's text protocol returns the server's text: both paths must yield the same string.
 * INET4 likewise travels as BINARY(4): the 4 address bytes, printed dotted-decimal.
 *
 * - UUID: the binlog bytes are in text order (checked on 10.11.19: a version-1 UUID, which the
 *   server orders by its swapped segments, arrives unswapped), printed as lowercase 8-4-4-4-12.
 * - INET6: the 16 address bytes, most significant first, in the short form the server prints:
 *   `::ffff:a.b.c.d` for an IPv4-mapped address, `::a.b.c.d` for an IPv4-compatible one whose
 *   seventh group is not zero (`::1` and `::102` stay hex), else lowercase groups without leading
 *   zeros and the longest run of zero groups (the first of equal runs) as `::` — a lone zero group
 *   too (`1:2:3::5:0:7:0`), where RFC 5952 would keep it as `0`. test/cdc/types.test.ts compares
 *   this with the server's text for edge cases and random zero-group patterns.
 */
import { TidemarkError } from '../../errors/index';

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `s` is a UUID as the server prints one (lowercase 8-4-4-4-12). */
export function isUuidText(s: string): boolean {
  return UUID_TEXT.test(s);
}

/** The server's text of a UUID's 16 bytes (binlog order, which is the text's). */
export function formatUuid(bytes: Uint8Array, where: string): string {
  const hex = checked(bytes, where, 'a UUID').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The server's text of an INET6 value's 16 bytes. */
export function formatInet6(bytes: Uint8Array, where: string): string {
  const b = checked(bytes, where, 'an INET6');
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i));
  const dotted = () => `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (groups.slice(0, 5).every((g) => g === 0)) {
    if (groups[5] === 0xffff) return `::ffff:${dotted()}`;
    if (groups[5] === 0 && groups[6] !== 0) return `::${dotted()}`;
  }
  let best = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLength))}`;
}

/** The server's text of an INET4 value's 4 bytes (a.b.c.d). */
export function formatInet4(bytes: Uint8Array, where: string): string {
  if (bytes.length > 4) throw new TidemarkError('DataInvalid', `${where}: expected the 4 bytes of an INET4 value, found ${bytes.length}`, { column: where });
  const b = Buffer.alloc(4);
  b.set(bytes);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Whether `s` is an INET4 value as the server prints one (dotted decimal, no leading zeros). */
export function isInet4Text(s: string): boolean {
  return /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(s);
}

/** Text an INET6 literal may take: hex groups, colons and an embedded dotted IPv4 (never a quote). */
export function isInet6Text(s: string): boolean {
  return s.length >= 2 && s.length <= 45 && /^[0-9a-f:.]+$/i.test(s) && s.includes(':');
}

/**
 * The bytes as given; a row image drops trailing zero bytes of BINARY(16), so shorter values are
 * padded back with zeros, as the column does.
 */
function checked(bytes: Uint8Array, where: string, what: string): Buffer {
  if (bytes.length > 16) throw new TidemarkError('DataInvalid', `${where}: expected the 16 bytes of ${what} value, found ${bytes.length}`, { column: where });
  const out = Buffer.alloc(16);
  out.set(bytes);
  return out;
}
