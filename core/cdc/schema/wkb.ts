/**
 * Spatial values. MariaDB stores a geometry as its SRID (4 bytes, little-endian) followed by its
 * WKB; that stored form is how both paths hand a value over before conversion: the snapshot reads
 * `CAST(g AS BINARY)`, the binlog reader decodes GEOMETRY columns as BLOBs (zongji-rows.ts), so
 * no shape is ambiguous and the SRID is there to compare chunk-key bounds byte by byte as the
 * server does (chunk-keys.ts). Iceberg v2 has no geometry type: the lake keeps the WKB
 * (wkbOfStored), what ST_AsBinary returns.
 *
 * encodeWkb re-encodes zongji's own decoded objects ({x, y}, arrays of them; it drops the SRID),
 * for rows zongji decoded itself: only for the shapes the column type pins down (POINT,
 * LINESTRING, POLYGON); for GEOMETRY and the MULTI* types its object is ambiguous (a MULTIPOINT
 * and a LINESTRING decode alike), so those are Unsupported there.
 */
import { TidemarkError } from '../../errors/index';

interface Pt {
  x: number;
  y: number;
}

function isPoint(v: unknown): v is Pt {
  return typeof v === 'object' && v !== null && typeof (v as Pt).x === 'number' && typeof (v as Pt).y === 'number';
}

/** Little-endian WKB for a value of the given column type; throws Unsupported when ambiguous. */
export function encodeWkb(columnType: string, value: unknown, where: string): Uint8Array {
  const kind = columnType.trim().toLowerCase().split(/[\s(]/)[0];
  const parts: Buffer[] = [];
  const header = (type: number) => {
    const b = Buffer.alloc(5);
    b.writeUInt8(1, 0);
    b.writeUInt32LE(type, 1);
    parts.push(b);
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n, 0);
    parts.push(b);
  };
  const points = (ps: Pt[]) => {
    const b = Buffer.alloc(16 * ps.length);
    ps.forEach((p, i) => {
      b.writeDoubleLE(p.x, i * 16);
      b.writeDoubleLE(p.y, i * 16 + 8);
    });
    parts.push(b);
  };
  if (kind === 'point' && isPoint(value)) {
    header(1);
    points([value]);
  } else if (kind === 'linestring' && Array.isArray(value) && value.every(isPoint)) {
    header(2);
    u32(value.length);
    points(value);
  } else if (kind === 'polygon' && Array.isArray(value) && value.every((r) => Array.isArray(r) && r.every(isPoint))) {
    header(3);
    u32(value.length);
    for (const ring of value as Pt[][]) {
      u32(ring.length);
      points(ring);
    }
  } else {
    throw new TidemarkError('Unsupported', `${where}: binlog values of ${columnType} columns cannot be re-encoded exactly (use POINT, LINESTRING or POLYGON columns)`, {
      column: where,
    });
  }
  return Buffer.concat(parts);
}

/** Fewest bytes of a stored spatial value: the SRID and a WKB header (byte order, type). */
const STORED_MIN = 4 + 5;

/** The WKB of a stored spatial value (SRID, then WKB); DataInvalid naming `where` when too short. */
export function wkbOfStored(stored: Uint8Array, where: string): Uint8Array {
  if (stored.length < STORED_MIN) {
    throw new TidemarkError('DataInvalid', `${where}: a spatial value of ${stored.length} bytes; expected a 4-byte SRID and a WKB geometry`, { column: where });
  }
  return stored.subarray(4);
}
