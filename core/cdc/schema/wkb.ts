/**
 * zongji decodes spatial values into plain objects ({x, y}, arrays of them) and drops the bytes.
 * Iceberg v2 has no geometry type, so spatial columns map to binary holding standard WKB (what the
 * snapshot reads through ST_AsBinary). This re-encodes zongji's objects for the shapes the column
 * type pins down (POINT, LINESTRING, POLYGON); for GEOMETRY and the MULTI* types the object is
 * ambiguous (a MULTIPOINT and a LINESTRING decode alike), so those are Unsupported in the binlog.
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
