/**
 * Rows events decoded when their transaction is converted instead of on arrival: the binlog reader
 * holds each captured rows event as its bytes and decodes it, with zongji's own rows-event decoder,
 * part by part after the commit (change-processor.ts convertTransactionParts).
 *
 * Why: a transaction's rows must be held until its commit marker. Held as decoded values they
 * outlive young-generation collections, get copied and promoted, and the old generation grows by
 * every row; held as bytes they cost nothing measurable (docs/perf-notes.md, "Measurements behind
 * code choices").
 * An open transaction holds its row images as the binlog has them, several times smaller than the
 * decoded values.
 *
 * Why by hand: zongji decodes every rows event it delivers as the event arrives and has no option
 * to defer it. The rows events are left out of its `includeEvents` (zongji then skips them without
 * decoding) and their packets are taken from the binlog connection just before zongji sees them;
 * zongji's decoder (its rows-event classes, not exported by the package) is loaded from the
 * package's own files. This ties the module to zongji's internals: the package is pinned to an
 * exact version, and test/cdc/zongji-rows.test.ts decodes every type of the type map (inserts,
 * updates, deletes; utf8mb4 and latin1) through here and through zongji's own delivery and
 * compares them. One deliberate difference: spatial values come as their stored bytes
 * (withStoredSpatial).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type ZongJi from '@vlasky/zongji';
import type { TableMapEntry } from '@vlasky/zongji';

/** The subset of zongji's internal binlog Parser this module uses. */
interface Parser {
  append(buffer: Buffer): void;
  _offset: number;
}
type RowsEventClass = new (parser: Parser, options: Record<string, number>, zongji: DecodeContext) => { rows: unknown[] };

/** What zongji's rows-event decoder reads from the zongji instance it is given. */
interface DecodeContext {
  useChecksum: boolean;
  tableMap: Record<number, TableMapEntry>;
  connection: { config: unknown };
  /** zongji reports an undecodable column through its instance's 'error' event: here it throws. */
  emit(name: string, error: Error): void;
}

const entry = createRequire(import.meta.url).resolve('@vlasky/zongji');
const libUrl = (file: string) => pathToFileURL(join(dirname(entry), 'lib', file)).href;
const codeMap = (await import(libUrl('code_map.js'))) as { getEventClass(code: number): unknown };
const rowsEvents = (await import(libUrl('rows_event.js'))) as Record<'WriteRows' | 'UpdateRows' | 'DeleteRows', RowsEventClass>;
const { Parser: ParserClass } = (await import(libUrl('reader.js'))) as { Parser: new () => Parser };

/** Operation of each binlog event type code that zongji decodes as rows (v1, v2, MariaDB compressed). */
const OP_BY_CODE: ('c' | 'u' | 'd' | undefined)[] = Array.from({ length: 256 }, (_, code) => {
  const cls = codeMap.getEventClass(code);
  return cls === rowsEvents.WriteRows ? 'c' : cls === rowsEvents.UpdateRows ? 'u' : cls === rowsEvents.DeleteRows ? 'd' : undefined;
});

/** Bytes of the binlog event header on the wire: the OK marker, then the 19-byte v4 header. */
const HEADER = 20;

/** A rows event as it came off the binlog connection, not yet decoded. */
export interface RowsPacket {
  op: 'c' | 'u' | 'd';
  tableId: number;
  /** zongji's table map entry for the table id at this point of the stream (undefined: not mapped). */
  tableMap: TableMapEntry | undefined;
  /** End position of the event (0 inside a MariaDB transaction). */
  nextPosition: number;
  /** Bytes of the event. */
  size: number;
  /**
   * Decodes the event's rows as zongji would deliver them, with `tableMap` in place of zongji's
   * entry when given; throws zongji's error for an undecodable value.
   */
  decode(tableMap?: TableMapEntry): unknown[];
}

interface MysqlConnection {
  _paused: boolean;
  _command: unknown;
  config: unknown;
  handlePacket(packet: { buffer: Buffer; offset: number; end: number } | undefined): unknown;
}

/**
 * Calls `onRows` with every rows event of `zongji`'s binlog stream, in stream order, just before
 * zongji handles (and, with the rows events excluded from includeEvents, skips) it. Install it on
 * zongji's 'ready' event, before the binlog dump starts.
 */
export function captureRowsPackets(zongji: ZongJi, onRows: (p: RowsPacket) => void): void {
  const z = zongji as unknown as { connection: MysqlConnection | null; BinlogClass?: new (...a: never[]) => unknown; useChecksum: boolean; tableMap: Record<number, TableMapEntry> };
  const conn = z.connection;
  if (!conn) return;
  const handle = conn.handlePacket;
  conn.handlePacket = function (this: MysqlConnection, packet) {
    // While paused the connection queues packets and hands them here again on resume: a table map
    // still being completed (zongji pauses for its column metadata) is done by then.
    if (packet && !this._paused && z.BinlogClass && this._command instanceof z.BinlogClass) {
      const b = packet.buffer;
      const o = packet.offset;
      const op = packet.end - o > HEADER + 6 && b[o] === 0 ? OP_BY_CODE[b[o + 5]!] : undefined;
      if (op) {
        const tableId = b.readUIntLE(o + HEADER, 6);
        const tableMap = z.tableMap[tableId];
        const bytes = b.subarray(o, packet.end);
        const ctx: DecodeContext = { useChecksum: z.useChecksum, tableMap: tableMap ? { [tableId]: tableMap } : {}, connection: { config: this.config }, emit: throwError };
        const decode = (tm?: TableMapEntry) => decodeRows(bytes, tm ? { ...ctx, tableMap: { [tableId]: tm } } : ctx);
        onRows({ op, tableId, tableMap, nextPosition: b.readUInt32LE(o + 14), size: bytes.length, decode });
      }
    }
    return handle.call(this, packet);
  };
}

function throwError(name: string, error: Error): void {
  if (name === 'error') throw error;
}

/** Binlog type codes (MySQL's enum_field_types) of GEOMETRY and BLOB. */
const GEOMETRY_TYPE = 255;
const BLOB_TYPE = 252;

/** Table maps with GEOMETRY columns read as BLOBs, by the table map they were made from. */
const storedSpatial = new WeakMap<TableMapEntry, TableMapEntry>();

/**
 * `tm` with its GEOMETRY columns as binary BLOBs (same length-prefixed layout): zongji then hands
 * over a spatial value's stored bytes (SRID, then WKB) instead of decoding it into objects that
 * drop the SRID and cannot tell a MULTIPOINT from a LINESTRING (schema/wkb.ts).
 */
function withStoredSpatial(tm: TableMapEntry): TableMapEntry {
  let out = storedSpatial.get(tm);
  if (!out) {
    // Once per table map (zongji keeps one per table id until the next table map event).
    const cols = tm.columns;
    out = cols?.some((c) => c.type === GEOMETRY_TYPE) ? { ...tm, columns: cols.map((c) => (c.type === GEOMETRY_TYPE ? { ...c, type: BLOB_TYPE, charset: null } : c)) } : tm;
    storedSpatial.set(tm, out);
  }
  return out;
}

/** The rows of one rows event (`bytes` from the OK marker to the end, checksum included), decoded by zongji. */
function decodeRows(bytes: Buffer, given: DecodeContext): unknown[] {
  let ctx = given;
  for (const [id, tm] of Object.entries(given.tableMap)) {
    const stored = withStoredSpatial(tm);
    if (stored !== tm) ctx = { ...ctx, tableMap: { ...ctx.tableMap, [id]: stored } };
  }
  const code = bytes[5]!;
  const Cls = codeMap.getEventClass(code) as RowsEventClass;
  const parser = new ParserClass();
  parser.append(bytes);
  parser._offset = HEADER;
  const size = bytes.readUInt32LE(10) - (ctx.useChecksum ? 23 : 19);
  return new Cls(parser, { timestamp: bytes.readUInt32LE(1) * 1000, eventType: code, serverId: bytes.readUInt32LE(6), nextPosition: bytes.readUInt32LE(14), size }, ctx).rows;
}
