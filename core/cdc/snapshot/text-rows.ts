/**
 * Snapshot rows kept as the server sent them: the MySQL text protocol's row payloads (one
 * length-encoded field after another, 0xFB for NULL) in mysql2's packet buffers, decoded only when the
 * chunk is emitted (text-columns.ts decodes them straight into typed columns, with the table's
 * schema as it stands after the chunk's binlog drain).
 *
 * Why not mysql2's rows: its text parser makes an object a row and a string a field, which the
 * snapshot then converts again (DATETIME text → µs, strings → UTF-8 for Arrow); on the bench table
 * those allocations and their garbage collection were most of the sync thread's time, and the sync
 * thread was the slower of the two (docs/perf-notes.md). The row override below is mysql2's own
 * extension point in all but name (a command's state is the method it returns); it is pinned by
 * test/cdc/snapshot-text-rows.test.ts, which fails if a mysql2 upgrade changes it.
 */
import { TidemarkError } from '../../errors/index';

/** A field's description as the result set's column definition gives it. */
export interface TextField {
  name: string;
  /** The field's value is bytes, not text (a string or BLOB type in the binary character set, BIT, GEOMETRY). */
  binary: boolean;
}

const BINARY_CHARSET = 63;
/** Protocol column types whose values are text unless their character set is binary (VARCHAR, BLOBs, VAR_STRING, STRING). */
const STRING_TYPES = new Set([15, 249, 250, 251, 252, 253, 254]);
/** BIT and GEOMETRY: always bytes. Numeric and temporal types also report charset 63, but their values are text. */
const BYTES_TYPES = new Set([16, 255]);

/** Whether mysql2 gives this field's value as bytes (its text parser's rule). */
function isBytesField(f: { characterSet: number; columnType: number }): boolean {
  return BYTES_TYPES.has(f.columnType) || (STRING_TYPES.has(f.columnType) && f.characterSet === BINARY_CHARSET);
}

/**
 * The rows of one result set, as payload bytes: row i starts at `starts[i]` of `bufs[bufIndex[i]]`
 * (its fields are self-delimiting). The buffers are mysql2's own packet buffers, kept by reference:
 * mysql2 never writes into a buffer it has handed out (its BLOB values are views into them too).
 */
export class TextRows {
  readonly bufs: Buffer[] = [];
  bufIndex: Int32Array;
  starts: Int32Array;
  count = 0;
  private last: Buffer | null = null;

  constructor(
    readonly fields: readonly TextField[],
    capacity: number,
  ) {
    this.bufIndex = new Int32Array(Math.max(1, capacity));
    this.starts = new Int32Array(Math.max(1, capacity));
  }

  /** Appends one row whose payload starts at `start` of `buf`. */
  add(buf: Buffer, start: number): void {
    if (buf !== this.last) {
      this.bufs.push(buf);
      this.last = buf;
    }
    if (this.count === this.starts.length) {
      const grow = (a: Int32Array) => {
        const grown = new Int32Array(a.length * 2);
        grown.set(a);
        return grown;
      };
      this.starts = grow(this.starts);
      this.bufIndex = grow(this.bufIndex);
    }
    this.bufIndex[this.count] = this.bufs.length - 1;
    this.starts[this.count++] = start;
  }

  /** Index of the field named `name` (MySQL names are case-insensitive), or -1. */
  fieldIndex(name: string): number {
    const lower = name.toLowerCase();
    return this.fields.findIndex((f) => f.name.toLowerCase() === lower);
  }

  /** The bytes of field `f` of row `i` as [start, end), or null for NULL. */
  field(i: number, f: number): [number, number] | null {
    const b = this.bufs[this.bufIndex[i]!]!;
    let p = this.starts[i]!;
    for (let c = 0; ; c++) {
      const first = b[p]!;
      if (first === 0xfb) {
        p++;
        if (c === f) return null;
        continue;
      }
      const [len, at] = readLength(b, p);
      if (c === f) return [at, at + len];
      p = at + len;
    }
  }

  /** An integer field of row `i` as a bigint (a chunk bound); DataInvalid when it is not one. */
  integer(i: number, f: number, what: string): bigint {
    const span = this.field(i, f);
    const text = span === null ? 'NULL' : this.bufs[this.bufIndex[i]!]!.toString('latin1', span[0], span[1]);
    if (!/^-?\d+$/.test(text)) throw new TidemarkError('DataInvalid', `chunk key value ${text} of ${what} is not an integer`, { table: what });
    return BigInt(text);
  }

  /**
   * Row `i` as a plain object of the server's text (bytes for binary fields), the form every
   * column codec of the type map takes: for the rare paths that need row objects.
   */
  rawRow(i: number): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    const b = this.bufs[this.bufIndex[i]!]!;
    let p = this.starts[i]!;
    for (const f of this.fields) {
      if (b[p] === 0xfb) {
        p++;
        row[f.name] = null;
        continue;
      }
      const [len, at] = readLength(b, p);
      row[f.name] = f.binary ? Buffer.from(b.subarray(at, at + len)) : b.toString('utf8', at, at + len);
      p = at + len;
    }
    return row;
  }
}

/** A length-encoded integer at `p`: [value, where its data starts]. 0xFB (NULL) is the caller's. */
export function readLength(b: Uint8Array, p: number): [number, number] {
  const first = b[p]!;
  if (first < 0xfb) return [first, p + 1];
  if (first === 0xfc) return [b[p + 1]! | (b[p + 2]! << 8), p + 3];
  if (first === 0xfd) return [b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16), p + 4];
  if (first === 0xfe) return [(b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16)) + b[p + 4]! * 2 ** 24 + (b[p + 5]! | (b[p + 6]! << 8) | (b[p + 7]! << 16)) * 2 ** 32, p + 9];
  throw new TidemarkError('DataInvalid', `text protocol row: invalid length prefix 0x${first.toString(16)} at byte ${p}`, {});
}

/** What a mysql2 query command looks like to captureTextRows (internals of mysql2 3.x, pinned by its test). */
interface QueryCommand {
  row: (this: QueryCommand, packet: RowPacket, connection: unknown) => unknown;
  _resultIndex: number;
  _fields: { name: string; characterSet: number; columnType: number }[][];
}

interface RowPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

/**
 * Makes the rows of result set `resultIndex` of `command` (a mysql2 text-protocol Query, before
 * any packet of it was read) go to `take` as payload bytes instead of row objects; the other
 * result sets are left to mysql2. `take(buf, start, fields)` gets each row (its payload starts at
 * `start` of `buf`); it must not throw
 * (an error there would break mysql2's packet handling): keep the error and report it at the end.
 */
export function captureTextRows(command: unknown, resultIndex: number, take: (buf: Buffer, start: number, fields: readonly TextField[]) => void): void {
  const cmd = command as QueryCommand;
  const proto = Object.getPrototypeOf(cmd) as QueryCommand;
  if (typeof proto.row !== 'function' || !Array.isArray(cmd._fields)) {
    throw new TidemarkError('Internal', 'mysql2 query command without the row state this snapshot reader relies on (mysql2 changed: see core/cdc/snapshot/text-rows.ts)', {});
  }
  let fields: TextField[] | null = null;
  let fieldsOf = -1;
  cmd.row = function row(this: QueryCommand, packet: RowPacket, connection: unknown): unknown {
    if (this._resultIndex !== resultIndex || packet.isEOF()) return proto.row.call(this, packet, connection);
    if (fieldsOf !== this._resultIndex) {
      fields = this._fields[this._resultIndex]!.map((f) => ({ name: f.name, binary: isBytesField(f) }));
      fieldsOf = this._resultIndex;
    }
    take(packet.buffer, packet.offset, fields!);
    return this.row;
  };
}
