/**
 * Key shapes for the snapshot chunk tests (snapshot-keys.test.ts, snapshot-kill.test.ts): a table
 * per shape with an `id` beside the key, a concurrent writer, and the table's state rendered by the
 * server to compare with a stream applied to a map.
 */
import mysql from 'mysql2/promise';
import type { PrivateMariaDb } from '../support/mariadb';
import type { ColumnValue, Row } from '../../core/cdc/types';
import { PREFIXED_SHAPES } from './key-shapes-prefixed';

const ROWS = 3000;

/** A key shape: its column definitions, how key `i` is built in SQL, and how a key value is compared. */
export interface KeyShape {
  name: string;
  /** Column definitions of the key columns. */
  columns: string;
  keyColumns: string[];
  /** SQL expressions of the key columns for the integer SQL expression `i` (distinct i, distinct keys). */
  key: (i: string) => string[];
  /** false: no primary key, chunked by `chunkKeyColumn`. */
  primaryKey: boolean;
  /** The PRIMARY KEY clause's column list when it is not `keyColumns` (a TEXT/BLOB prefix). */
  primaryKeySql?: string;
  /**
   * Rows a chunk of a primary-key shape may hold above the chunk size at an exact watermark:
   * rows sharing the index prefix of a TEXT/BLOB bound come with it.
   */
  chunkSlack?: number;
  chunkKeyColumn?: string;
  /** Further index clauses of the table (`, INDEX (g(25))`). */
  indexSql?: string;
  /** The key values of a chunk bound as query parameters (default: as they are). */
  bindKey?: (values: unknown[]) => unknown[];
  /** SQL rendering of the key columns, and the same of the source's canonical values. */
  sqlRender: string;
  render: (row: Row) => string;
}

const md5Uuid = (i: string) => `CONCAT_WS('-', SUBSTR(MD5(${i}),1,8), SUBSTR(MD5(${i}),9,4), SUBSTR(MD5(${i}),13,4), SUBSTR(MD5(${i}),17,4), SUBSTR(MD5(${i}),21,12))`;
const scrambled = (i: string) => `((${i}) * 7919 % 1000003)`;
const text = (v: ColumnValue) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex').toUpperCase() : String(v));

/**
 * A UUID for `i` whose version is 1, 4 or 7 and whose variant nibble is md5's: MariaDB orders
 * versions 1–5 of the RFC variant by swapped segments and the rest as written, so the server's
 * order is neither the text's nor the bytes'.
 */
const mixedUuid = (i: string) =>
  `CONCAT_WS('-', SUBSTR(MD5(${i}),1,8), SUBSTR(MD5(${i}),9,4), CONCAT(ELT(1 + (${i}) % 3, '1', '4', '7'), SUBSTR(MD5(${i}),14,3)), CONCAT(ELT(1 + (${i}) % 2, '9', SUBSTR(MD5(${i}),17,1)), SUBSTR(MD5(${i}),18,3)), SUBSTR(MD5(${i}),21,12))`;
/**
 * An INET6 address for `i`, from its 16 bytes: IPv4-mapped, IPv4-compatible, with a run of zero
 * groups, and a full address in turn (the text forms the server prints differ for each).
 */
const mixedInet6 = (i: string) =>
  `CAST(UNHEX(ELT(1 + (${i}) % 4, CONCAT(REPEAT('0', 20), 'ffff', LEFT(MD5(${i}), 8)), CONCAT(REPEAT('0', 24), LEFT(MD5(${i}), 8)), CONCAT(LEFT(MD5(${i}), 8), REPEAT('0', 12), SUBSTR(MD5(${i}), 9, 12)), MD5(${i}))) AS INET6)`;

/** The bit value of a SET of members named m0, m1, …, as decimal text. */
const setBits = (v: ColumnValue) =>
  String(
    String(v)
      .split(',')
      .filter((m) => m !== '')
      .reduce((bits, m) => bits + 2 ** Number(m.slice(1)), 0),
  );

export const SHAPES: KeyShape[] = [
  {
    name: 'varchar',
    // The server's default collation (latin1_swedish_ci on the private server): case-insensitive,
    // PAD SPACE; keys in mixed case.
    columns: 'k VARCHAR(40) NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`IF(${i} % 3 = 0, UPPER(CONCAT(CHAR(97 + ${i} * 7 % 26), '-', MD5(${i}))), CONCAT(CHAR(97 + ${i} * 7 % 26), '-', MD5(${i})))`],
    primaryKey: true,
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'char',
    columns: 'k CHAR(12) CHARACTER SET latin1 NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`LPAD(CONV(${scrambled(i)}, 10, 36), 8, '0')`],
    primaryKey: true,
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'binary16_uuid',
    // Every fourth key ends in eight zero bytes, which the binlog does not carry.
    columns: 'k BINARY(16) NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`UNHEX(IF(${i} % 4 = 0, CONCAT(LEFT(MD5(${i}), 16), REPEAT('0', 16)), MD5(${i})))`],
    primaryKey: true,
    sqlRender: 'HEX(k)',
    render: (r) => text(r.k!),
  },
  {
    name: 'char36_uuid',
    columns: 'k CHAR(36) CHARACTER SET ascii NOT NULL',
    keyColumns: ['k'],
    key: (i) => [md5Uuid(i)],
    primaryKey: true,
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'uuid',
    // MariaDB's UUID type, compared by the server (bounds go back as CAST('…' AS UUID)).
    columns: 'k UUID NOT NULL',
    keyColumns: ['k'],
    key: (i) => [mixedUuid(i)],
    primaryKey: true,
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'uuid_composite',
    // A UUID first, repeating (97 values, ~31 rows each), then an integer: tuple comparisons.
    columns: 'u UUID NOT NULL, x INT NOT NULL',
    keyColumns: ['u', 'x'],
    key: (i) => [mixedUuid(`(${i}) % 97`), `${i}`],
    primaryKey: true,
    sqlRender: "CONCAT(u, '/', x)",
    render: (r) => `${text(r.u!)}/${text(r.x!)}`,
  },
  {
    name: 'inet6',
    // MariaDB's INET6 type: 16 bytes, compared by the server (bounds as CAST('…' AS INET6)).
    columns: 'k INET6 NOT NULL',
    keyColumns: ['k'],
    key: (i) => [mixedInet6(i)],
    primaryKey: true,
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'inet4',
    // MariaDB's INET4 type (10.10+): 4 bytes, compared by the server (bounds as CAST('…' AS INET4));
    // every fourth address ends in zero bytes, which the binlog does not carry.
    columns: 'k INET4 NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`INET_NTOA(IF((${i}) % 4 = 0, (${i}) * 40503 % 65536 * 65536, (${i}) * 2654435761 % 4294967296))`],
    primaryKey: true,
    sqlRender: 'k',
    render: (r) => text(r.k!),
  },
  {
    name: 'inet4_composite',
    // An INET4 address first, repeating (89 values), then an integer.
    columns: 'a INET4 NOT NULL, x INT NOT NULL',
    keyColumns: ['a', 'x'],
    key: (i) => [`INET_NTOA((${i}) % 89 * 50331653 % 4294967296)`, `${i}`],
    primaryKey: true,
    sqlRender: "CONCAT(a, '/', x)",
    render: (r) => `${text(r.a!)}/${text(r.x!)}`,
  },
  {
    name: 'inet6_composite',
    // An INET6 address first, repeating (97 values), then a DATE.
    columns: 'a INET6 NOT NULL, d DATE NOT NULL',
    keyColumns: ['a', 'd'],
    key: (i) => [mixedInet6(`(${i}) % 97`), `DATE '2000-01-01' + INTERVAL (${i}) DAY`],
    primaryKey: true,
    sqlRender: "CONCAT(a, '/', DATEDIFF(d, '1970-01-01'))",
    render: (r) => `${text(r.a!)}/${text(r.d!)}`,
  },
  {
    name: 'date',
    columns: 'k DATE NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`DATE '1000-01-01' + INTERVAL ${scrambled(i)} DAY`],
    primaryKey: true,
    sqlRender: "DATEDIFF(k, '1970-01-01')",
    render: (r) => text(r.k!),
  },
  {
    name: 'datetime6',
    columns: 'k DATETIME(6) NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`TIMESTAMP '2001-01-01 00:00:00' + INTERVAL (${scrambled(i)} * 1000 + ${i} % 1000) MICROSECOND`],
    primaryKey: true,
    sqlRender: "CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', k) AS CHAR)",
    render: (r) => text(r.k!),
  },
  {
    name: 'decimal',
    columns: 'k DECIMAL(20,6) NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`${scrambled(i)} / 1000 - 500`],
    primaryKey: true,
    sqlRender: 'CAST(k AS CHAR)',
    render: (r) => text(r.k!),
  },
  {
    name: 'timestamp3',
    // Stored as UTC; both the snapshot and the binlog deliver UTC text (the session's zone is UTC).
    columns: 'k TIMESTAMP(3) NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`FROM_UNIXTIME(1000000000 + ${scrambled(i)}) + INTERVAL (${i} % 1000) * 1000 MICROSECOND`],
    primaryKey: true,
    sqlRender: 'CAST(UNIX_TIMESTAMP(k) * 1000000 AS DECIMAL(20,0))',
    render: (r) => text(r.k!),
  },
  {
    name: 'float',
    // Exact in float32; the text protocol would round them to 6 digits (read as DOUBLE).
    columns: 'k FLOAT NOT NULL',
    keyColumns: ['k'],
    key: (i) => [`${scrambled(i)} / 8`],
    primaryKey: true,
    sqlRender: 'CAST(CAST(k AS DOUBLE) AS CHAR)',
    render: (r) => text(r.k!),
  },
  {
    name: 'composite_year_bit',
    // The zero year 0000 among the keys (zongji delivers it as 1900); BIT values as the binlog's bytes.
    columns: 'y YEAR NOT NULL, b BIT(10) NOT NULL',
    keyColumns: ['y', 'b'],
    key: (i) => [`IF((${i} DIV 1024) % 200 = 0, 0, 1901 + (${i} DIV 1024) % 200)`, `${i} % 1024`],
    primaryKey: true,
    // A BIT column compares with a number; bytes as a parameter would be a (wrong) string.
    bindKey: ([y, b]) => [y, BigInt(`0x${Buffer.from(b as Buffer).toString('hex')}`).toString()],
    sqlRender: "CONCAT(y + 0, '/', LPAD(HEX(b), 4, '0'))",
    render: (r) => `${text(r.y!)}/${text(r.b!)}`,
  },
  {
    name: 'composite_varchar_date',
    // Seven values of the first column: a chunk by it alone would hold a seventh of the table.
    columns: 'a VARCHAR(10) NOT NULL, b DATE NOT NULL',
    keyColumns: ['a', 'b'],
    key: (i) => [`CONCAT(IF(${i} % 2 = 0, 't', 'T'), ${i} % 7)`, `DATE '2000-01-01' + INTERVAL (${i} DIV 7) DAY`],
    primaryKey: true,
    sqlRender: "CONCAT(a, '/', DATEDIFF(b, '1970-01-01'))",
    render: (r) => `${text(r.a!)}/${text(r.b!)}`,
  },
  {
    name: 'enum_first',
    // Members out of alphabetical order and case (the index order is the member order, which a
    // comparison with text does not follow), then an integer: ENUM first, chunked by IN lists.
    columns: "e ENUM('zeta','Alpha','mid','beta','Omega','a b','zz') NOT NULL, x INT NOT NULL",
    keyColumns: ['e', 'x'],
    key: (i) => [`1 + (${i}) * 5 % 7`, `${i}`],
    primaryKey: true,
    sqlRender: "CONCAT(e, '/', x)",
    render: (r) => `${text(r.e!)}/${text(r.x!)}`,
  },
  {
    name: 'set12',
    // Twelve members: values ordered by their bits ('b' < 'a,b' < 'c'), listed in IN lists. The
    // end row's key, the empty set, is no other row's.
    columns: "s SET('m0','m1','m2','m3','m4','m5','m6','m7','m8','m9','m10','m11') NOT NULL",
    keyColumns: ['s'],
    key: (i) => [`IF(${i} = 999999, 0, 1 + (${i}) * 1427 % 4095)`],
    primaryKey: true,
    sqlRender: 's + 0',
    render: (r) => setBits(r.s!),
  },
  {
    name: 'set20',
    // Twenty members: too many values to list, compared as numbers (not ranged, still exact).
    columns: `s SET(${Array.from({ length: 20 }, (_, m) => `'m${m}'`).join(',')}) NOT NULL`,
    keyColumns: ['s'],
    key: (i) => [`IF(${i} = 999999, 0, 1 + (${i}) * 1427 % 1048575)`],
    primaryKey: true,
    sqlRender: 's + 0',
    render: (r) => setBits(r.s!),
  },
  ...PREFIXED_SHAPES,
];

/** A small deterministic PRNG so a failing run can be replayed by its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function createShapeTable(root: mysql.Connection, shape: KeyShape, table: string, rows = ROWS): Promise<void> {
  const pk = (shape.primaryKey ? `, PRIMARY KEY (${shape.primaryKeySql ?? shape.keyColumns.join(', ')}), UNIQUE KEY (id)` : '') + (shape.indexSql ?? '');
  await root.query(`CREATE TABLE app.${table} (id INT NOT NULL, ${shape.columns}, v VARCHAR(40), n BIGINT NOT NULL${pk})`);
  await root.query(`INSERT INTO app.${table} SELECT seq, ${shape.key('seq').join(', ')}, CONCAT('v', seq), seq FROM app.seq_1_to_${rows}`);
}

/** Inserts, updates (some moving the key to a new one) and deletes by `id` until stopped. */
export function startShapeWriter(db: PrivateMariaDb, shape: KeyShape, table: string, seed: number, rows = ROWS) {
  let stop = false;
  let ops = 0;
  const rand = rng(seed);
  const sets = (i: number) => shape.keyColumns.map((c, j) => `${c} = ${shape.key(String(i))[j]}`).join(', ');
  let next = rows + 1;
  const done = (async () => {
    const conn = await mysql.createConnection(db.rootConfig());
    try {
      while (!stop) {
        try {
          await writeOnce(conn);
        } catch (e) {
          // A test's writes at chunk bounds can deadlock with the multi-row update: the loser is
          // rolled back (by the server) and the writer goes on, as an application would.
          if ((e as { errno?: number }).errno !== 1213) throw e;
          await conn.query('ROLLBACK');
        }
        ops++;
      }
    } finally {
      await conn.end();
    }
  })();
  // A test that fails before stop() leaves the writer to meet the server's shutdown: its error is
  // reported by stop(), never as an unhandled rejection that would fail an unrelated test run.
  done.catch(() => undefined);
  async function writeOnce(conn: mysql.Connection): Promise<void> {
    const r = rand();
    const id = 1 + Math.floor(rand() * (rows + 100));
    if (r < 0.3) {
      const i = next++;
      await conn.query(`INSERT IGNORE INTO app.${table} SELECT ${i}, ${shape.key(String(i)).join(', ')}, 'ins-${ops}', ${ops}`);
    } else if (r < 0.6) await conn.query(`UPDATE app.${table} SET v = ?, n = n + 1 WHERE id = ?`, [`upd-${ops}`, id]);
    else if (r < 0.75) await conn.query(`UPDATE IGNORE app.${table} SET ${sets(next++)} WHERE id = ?`, [id]);
    else if (r < 0.9) await conn.query(`DELETE FROM app.${table} WHERE id = ?`, [id]);
    else {
      await conn.query('BEGIN');
      await conn.query(`UPDATE app.${table} SET n = n + 100 WHERE id IN (?, ?, ?)`, [id, (id * 7) % rows, (id * 13) % rows]);
      await conn.query('COMMIT');
    }
  }
  return {
    get ops() {
      return ops;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** id → {v, n, key} of the table now, the key rendered by the server. */
export async function shapeTableState(root: mysql.Connection, shape: KeyShape, table: string): Promise<Map<string, Record<string, string>>> {
  const [rows] = await root.query<mysql.RowDataPacket[]>(`SELECT id, v, CAST(n AS CHAR) AS n, ${shape.sqlRender} AS k FROM app.${table}`);
  return new Map(rows.map((r) => [String(r.id), { v: String(r.v), n: String(r.n), k: String(r.k) }]));
}

/** The same view of a stream applied to a map. */
export function renderState(state: Map<string, Row>, shape: KeyShape): Map<string, Record<string, string>> {
  return new Map([...state].map(([id, r]) => [id, { v: String(r.v), n: String(r.n), k: shape.render(r) }]));
}

