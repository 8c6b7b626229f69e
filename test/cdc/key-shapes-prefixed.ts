/**
 * Key shapes (key-shapes.ts) whose index holds a prefix of the key (TEXT/BLOB, a prefix-indexed
 * VARCHAR, spatial types) and tables without a primary key chunked by a configured column.
 */
import type { ColumnValue } from '../../core/cdc/types';
import type { KeyShape } from './key-shapes';

const scrambled = (i: string) => `((${i}) * 7919 % 1000003)`;
const text = (v: ColumnValue) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex').toUpperCase() : String(v));

export const PREFIXED_SHAPES: KeyShape[] = [
  {
    name: 'text_prefix',
    // utf8mb4_general_ci, mixed case; a primary key on a 12-character prefix (unique within it).
    columns: 'k TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`CONCAT(IF(${i} % 2 = 0, 'x', 'X'), LPAD(${scrambled(i)}, 8, '0'), REPEAT('-Tail', ${i} % 5))`],
    primaryKey: true,
    primaryKeySql: 'k(12)',
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'varchar_prefix',
    // A VARCHAR key indexed by a 9-character prefix (unique within it): bounds read unordered.
    columns: 'k VARCHAR(80) CHARACTER SET latin1 NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`CONCAT(IF(${i} % 2 = 0, 'q', 'Q'), LPAD(${scrambled(i)}, 8, '0'), '-', MD5(${i}))`],
    primaryKey: true,
    primaryKeySql: 'k(9)',
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'blob_shared_prefix',
    // A primary key of a 2-byte BLOB prefix and id: about 30 rows share each prefix, so chunks
    // (by the whole value) take in the rows sharing a bound's prefix.
    columns: 'b BLOB NOT NULL',
    keyColumns: ['b'],
    key: (i) => [`UNHEX(CONCAT(LPAD(HEX((${i}) % 100), 4, '0'), MD5(${i})))`],
    primaryKey: true,
    primaryKeySql: 'b(2), id',
    chunkSlack: 60,
    sqlRender: 'HEX(b)',
    render: (r) => text(r.b!),
  },
  {
    name: 'point',
    // A POINT primary key (the server indexes its whole 25 stored bytes as a prefix: bounds read
    // unordered), SRIDs 0 and 4326 mixed: compared as stored bytes, SRID first.
    columns: 'k POINT NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`ST_GeomFromText(CONCAT('POINT(', CAST(${scrambled(i)} AS SIGNED) - 500000, ' ', -((${i}) % 10) / 4, ')'), IF((${i}) % 2 = 0, 4326, 0))`],
    primaryKey: true,
    primaryKeySql: 'k',
    sqlRender: 'HEX(ST_AsBinary(k))',
    render: (r) => text(r.k!),
  },
  {
    name: 'geometry_prefix',
    // GEOMETRY values of two shapes (LINESTRING, MULTIPOINT: ambiguous in zongji's decoded form)
    // and two SRIDs; the primary key holds a 32-byte prefix and id, and ~60 rows share each prefix.
    columns: 'g GEOMETRY NOT NULL',
    keyColumns: ['g'],
    key: (i) => [`ST_GeomFromText(CONCAT(IF((${i}) % 2 = 0, 'LINESTRING(', 'MULTIPOINT('), (${i}) % 50, ' 0, ', ${i}, ' ', ${i}, ')'), IF((${i}) % 3 = 0, 3857, 0))`],
    primaryKey: true,
    primaryKeySql: 'g(32), id',
    chunkSlack: 130,
    sqlRender: 'HEX(ST_AsBinary(g))',
    render: (r) => text(r.g!),
  },
  {
    name: 'keyless_point',
    // No primary key, chunked by a repeating POINT column (97 points × 2 SRIDs) with a B-tree index.
    columns: 'p POINT NOT NULL',
    keyColumns: ['p'],
    key: (i) => [`ST_GeomFromText(CONCAT('POINT(', (${i}) * 7 % 97, ' 1.5)'), IF((${i}) % 2 = 0, 4326, 0))`],
    primaryKey: false,
    chunkKeyColumn: 'p',
    indexSql: ', INDEX (p)',
    sqlRender: 'HEX(ST_AsBinary(p))',
    render: (r) => text(r.p!),
  },
  {
    name: 'keyless_text',
    // No primary key, chunked by a TEXT column (utf8mb4_general_ci, mixed case, ~31 rows a key) with
    // a prefix index: the table scans in insertion order, so bounds are read sorted.
    columns: 'k TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`CONCAT(IF((${i}) % 2 = 0, 't', 'T'), LPAD((${i}) * 7 % 97, 3, '0'), REPEAT('-tail', (${i}) % 3))`],
    primaryKey: false,
    chunkKeyColumn: 'k',
    indexSql: ', INDEX (k(6))',
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'keyless_chunk_key_column',
    // No primary key; the chunk key repeats, also as keys equal only under the collation ('g5', 'G5', 'g5 ').
    columns: 'g VARCHAR(20) NOT NULL',
    keyColumns: ['g'],
    key: (i) => [`CONCAT(IF(${i} % 2 = 0, 'g', 'G'), ${i} * 7 % 97, IF(${i} % 3 = 0, ' ', ''))`],
    primaryKey: false,
    chunkKeyColumn: 'g',
    sqlRender: 'g',
    render: (r) => text(r.g!),
  },
];
