import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { afterBoundSql, atMostBoundSql, decodeKeyTuple, encodeKeyTuple, integerTupleAtMost, keyColumnKind, keyColumnSql, unorderedBoundSql, type KeyTuple } from '../../core/cdc/snapshot/chunk-keys';
import { parseMembers, SET_LISTED_MEMBERS } from '../../core/cdc/snapshot/chunk-key-members';
import { resolveConfig } from '../../core/cdc/config';
import { describeOneChunk, limitToPrefixIndex, planChunks } from '../../core/cdc/snapshot/chunk-plan';
import type { ColumnSchema, TableSchema } from '../../core/cdc/types';
import { isTidemarkError } from '../../core/errors/index';

function column(name: string, mysqlType: string, nullable = false): ColumnSchema {
  return { name, mysqlType, icebergType: { type: 'string' }, nullable, position: 1 };
}

function schema(columns: ColumnSchema[], primaryKey: string[]): TableSchema {
  return { table: { db: 'app', table: 't' }, columns, primaryKey };
}

const config = (chunkKeyColumns: Record<string, string> = {}) => resolveConfig({ hostname: 'h', username: 'u', password: '', tables: ['app\\.t'], serverId: 1, chunkKeyColumns });

function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isTidemarkError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a TidemarkError');
}

describe('chunk keys', () => {
  it('stored bounds round-trip exactly: text with spaces and case, numbers, binary with trailing zero bytes, temporal text', () => {
    const bound: KeyTuple = ['a ', 'ÄbC', 12, '-500.125000', Buffer.from('00ff000000', 'hex'), '2001-01-01 00:00:00.000123', '9007199254740993'];
    const text = encodeKeyTuple(bound);
    const cols = bound.map((_, i) => `c${i}`);
    expect(decodeKeyTuple(text, cols, cols.map(() => 'server'), 'app.t')).toEqual(bound);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.integer(), fc.uint8Array().map((a) => Buffer.from(a))), { minLength: 1, maxLength: 4 }), (values) => {
        const names = values.map((_, i) => `c${i}`);
        expect(decodeKeyTuple(encodeKeyTuple(values), names, names.map(() => 'server'), 'app.t')).toEqual(values);
      }),
    );
  });

  it('a plain decimal bound (offsets written before tuple chunks) is a one-column prefix of an integer-first key', () => {
    expect(decodeKeyTuple('42', ['tenant', 'id'], ['integer', 'integer'], 'app.t')).toEqual(['42']);
    expect(integerTupleAtMost([42, 999], ['42'])).toBe(true);
    expect(integerTupleAtMost([43, 0], ['42'])).toBe(false);
    expect(integerTupleAtMost([42, 7], [42, 6])).toBe(false);
    expect(integerTupleAtMost(['9007199254740993', 1], ['9007199254740993', 1])).toBe(true);
  });

  it('a stored bound that does not fit the key is DataInvalid naming the table and the key', () => {
    expect(thrown(() => decodeKeyTuple('42', ['k'], ['server'], 'app.t'))).toEqual({
      code: 'DataInvalid',
      message: 'offset snapshot.lastKey "42" of app.t: a plain number, but the first key column is not an integer (chunk key: k)',
    });
    expect(thrown(() => decodeKeyTuple('["a","b","c"]', ['a', 'b'], ['server', 'server'], 'app.t'))).toEqual({
      code: 'DataInvalid',
      message: 'offset snapshot.lastKey "[\\"a\\",\\"b\\",\\"c\\"]" of app.t: expected a list of 1 to 2 values (chunk key: a, b)',
    });
    expect(thrown(() => decodeKeyTuple('[{"hex":"zz"}]', ['k'], ['server'], 'app.t')).message).toContain('is neither text, a number nor {hex}');
    expect(thrown(() => decodeKeyTuple('{', ['k'], ['server'], 'app.t')).message).toContain('not a JSON array');
  });

  it('SQL literals carry the column type and collation; strings travel as hex, never quoted', () => {
    const s = schema(
      [column('v', 'varchar(20)'), column('b', 'binary(16)'), column('d', 'date'), column('t', 'datetime(6)'), column('m', 'decimal(20,6)'), column('i', 'bigint(20)')],
      ['v', 'b', 'd', 't', 'm', 'i'],
    );
    const sql = keyColumnSql(s, ['v', 'b', 'd', 't', 'm', 'i'], new Map([['v', { charset: 'utf8mb4', collation: 'utf8mb4_general_ci' }]]));
    const lits = sql.map((c, i) => c.literal(["it's", Buffer.from('ab', 'hex'), '2024-02-29', '2024-02-29 10:11:12.000001', '-1.500000', 7][i]));
    expect(lits).toEqual([
      "CONVERT(_utf8mb4 X'69742773' USING utf8mb4) COLLATE utf8mb4_general_ci",
      "CAST(X'ab' AS BINARY(16))",
      "CAST('2024-02-29' AS DATE)",
      "CAST('2024-02-29 10:11:12.000001' AS DATETIME(6))",
      '-1.500000',
      '7',
    ]);
    expect(afterBoundSql(sql.slice(2, 4), ['2024-01-01', '2024-01-01 00:00:00'])).toBe(
      "`d` >= CAST('2024-01-01' AS DATE) AND (`d`, `t`) > (CAST('2024-01-01' AS DATE), CAST('2024-01-01 00:00:00' AS DATETIME(6)))",
    );
    expect(atMostBoundSql(sql.slice(5), [9])).toBe('`i` <= 9');
    // A value that is not of the column's form never reaches the SQL text.
    expect(thrown(() => sql[2]!.literal("2024-01-01' OR 1=1 --"))).toEqual({ code: 'DataInvalid', message: 'chunk key app.t.d: value "2024-01-01\' OR 1=1 --" is not a value of the column\'s type' });
    expect(thrown(() => sql[4]!.literal('1e5')).code).toBe('DataInvalid');
  });

  it('literals of TIMESTAMP, YEAR (zongji 1900 is the zero year), BIT (as its number) and floating point (exact doubles)', () => {
    const s = schema([column('ts', 'timestamp(3)'), column('y', 'year(4)'), column('b', 'bit(10)'), column('f', 'float'), column('d', 'double')], ['ts', 'y', 'b', 'f', 'd']);
    const sql = keyColumnSql(s, ['ts', 'y', 'b', 'f', 'd'], new Map());
    expect(sql[0]!.literal('2001-09-09 01:46:40.125')).toBe("CAST('2001-09-09 01:46:40.125' AS DATETIME(3))");
    expect([2024, 1900, 0, '2155'].map((v) => sql[1]!.literal(v))).toEqual(['2024', '0', '0', '2155']);
    expect([Buffer.from('03ff', 'hex'), Buffer.from('0000', 'hex'), Buffer.alloc(0)].map((v) => sql[2]!.literal(v))).toEqual(['1023', '0', '0']);
    expect(sql[3]!.literal(0.2857142984867096)).toBe('CAST(0.2857142984867096 AS DOUBLE)');
    expect(sql[4]!.literal(1e-7)).toBe('CAST(1e-7 AS DOUBLE)');
    expect(thrown(() => sql[4]!.literal(Number.NaN)).code).toBe('DataInvalid');
    expect(thrown(() => sql[2]!.literal(5)).code).toBe('DataInvalid');
    expect(thrown(() => sql[1]!.literal('1999; DROP')).code).toBe('DataInvalid');
  });

  it('ENUM members from the column type; comparisons in member order as IN lists the server ranges; ordinals are member indexes', () => {
    expect(parseMembers("enum('a''b','c\\\\d','E f')")).toEqual(["a'b", 'c\\d', 'E f']);
    const s = schema([column('e', "enum('zz','Aa','mm')"), column('id', 'int(11)')], ['e', 'id']);
    const [e, id] = keyColumnSql(s, ['e', 'id'], new Map([['e', { charset: 'latin1', collation: 'latin1_swedish_ci' }]]));
    const lit = (m: string) => `CONVERT(_utf8mb4 X'${Buffer.from(m).toString('hex')}' USING latin1) COLLATE latin1_swedish_ci`;
    expect(e!.compare!('>', 'zz')).toBe(`\`e\` IN (${lit('Aa')}, ${lit('mm')})`);
    expect(e!.compare!('>', 'mm')).toBe('FALSE');
    expect(e!.compare!('<=', 'Aa')).toBe(`(\`e\` = 0 OR \`e\` IN (${lit('zz')}, ${lit('Aa')}))`);
    expect(e!.compare!('=', 'Aa')).toBe(`\`e\` IN (${lit('Aa')})`);
    expect(['zz', 'Aa', 'mm', ''].map((v) => e!.ordinal(v))).toEqual(['1', '2', '3', '0']);
    expect(afterBoundSql([e!, id!], ['Aa', 7])).toBe(`(\`e\` IN (${lit('mm')}) OR (\`e\` IN (${lit('Aa')}) AND \`id\` > 7))`);
    expect(atMostBoundSql([id!, e!], [7, 'zz'])).toBe(`\`id\` <= 7 AND (\`id\` < 7 OR (\`id\` = 7 AND (\`e\` = 0 OR \`e\` IN (${lit('zz')}))))`);
    expect(thrown(() => e!.ordinal('ZZ'))).toEqual({ code: 'DataInvalid', message: 'chunk key app.t.e: value "ZZ" is not a value of the column\'s type' });
  });

  it('SET values compare by their bits: listed in IN lists up to SET_LISTED_MEMBERS members, numerically beyond', () => {
    const small = keyColumnSql(schema([column('s', "set('a','b','c')")], ['s']), ['s'], new Map([['s', { charset: 'latin1', collation: 'latin1_swedish_ci' }]]))[0]!;
    expect(['', 'a', 'b', 'a,b', 'c', 'a,b,c'].map((v) => small.ordinal(v))).toEqual(['0', '1', '2', '3', '4', '7']);
    expect(small.compare!('>', 'a,b')).toBe('`s` IN (4, 5, 6, 7)');
    expect(small.compare!('<', 'b')).toBe('`s` IN (0, 1)');
    expect(small.compare!('>', 'a,b,c')).toBe('FALSE');
    expect(small.compare!('=', 'b,c')).toBe('`s` = 6');
    const members = Array.from({ length: SET_LISTED_MEMBERS + 1 }, (_, i) => `'m${i}'`).join(',');
    const big = keyColumnSql(schema([column('s', `set(${members})`)], ['s']), ['s'], new Map([['s', { charset: 'latin1', collation: 'latin1_swedish_ci' }]]))[0]!;
    expect(big.compare!('>', `m0,m${SET_LISTED_MEMBERS}`)).toBe(`\`s\` > ${1 + 2 ** SET_LISTED_MEMBERS}`);
    expect(thrown(() => small.ordinal('a,x')).code).toBe('DataInvalid');
  });

  it('UUID and INET6 literals: the type\'s text cast to the type (binlog bytes printed as the server does); nothing else reaches the SQL', () => {
    const [u, ip, id] = keyColumnSql(schema([column('u', 'uuid'), column('ip', 'inet6'), column('id', 'int(11)')], ['u', 'ip', 'id']), ['u', 'ip', 'id'], new Map());
    expect(u!.literal('00000000-0000-1000-8000-000000000003')).toBe("CAST('00000000-0000-1000-8000-000000000003' AS UUID)");
    expect(u!.literal(Buffer.from('ffffffff00007000800000000000000a', 'hex'))).toBe("CAST('ffffffff-0000-7000-8000-00000000000a' AS UUID)");
    expect(ip!.literal('::ffff:10.0.0.1')).toBe("CAST('::ffff:10.0.0.1' AS INET6)");
    // A binlog image drops BINARY(16)'s trailing zero bytes: 2001:db8:: arrives as 4 bytes.
    expect(ip!.literal(Buffer.from('20010db8', 'hex'))).toBe("CAST('2001:db8::' AS INET6)");
    expect(afterBoundSql([u!, id!], ['00000000-0000-1000-8000-000000000003', 7])).toBe(
      "`u` >= CAST('00000000-0000-1000-8000-000000000003' AS UUID) AND (`u`, `id`) > (CAST('00000000-0000-1000-8000-000000000003' AS UUID), 7)",
    );
    for (const bad of ["0' OR '1", '00000000-0000-1000-8000-00000000000', 'ABCDEF00-0000-1000-8000-000000000003', 7]) expect(thrown(() => u!.literal(bad)).code).toBe('DataInvalid');
    for (const bad of ["::1' OR 1 --", '10.0.0.1', 5, Buffer.alloc(17)]) expect(thrown(() => ip!.literal(bad)).code).toBe('DataInvalid');
  });

  it('INET4 literals: dotted text cast to the type (binlog bytes printed as the server does); spatial literals: the stored bytes as binary', () => {
    const [a, g] = keyColumnSql(schema([column('a', 'inet4'), column('g', 'point')], ['a', 'g']), ['a', 'g'], new Map());
    expect(a!.literal('10.0.0.255')).toBe("CAST('10.0.0.255' AS INET4)");
    // A binlog image drops BINARY(4)'s trailing zero bytes: 10.1.0.0 arrives as 2 bytes.
    expect(a!.literal(Buffer.from('0a01', 'hex'))).toBe("CAST('10.1.0.0' AS INET4)");
    for (const bad of ["1.2.3.4' OR '1", '256.0.0.1', '01.2.3.4', '::1', 7, Buffer.alloc(5)]) expect(thrown(() => a!.literal(bad)).code).toBe('DataInvalid');
    const point = Buffer.from('e61000000101000000000000000000f03f0000000000000040', 'hex');
    expect(g!.literal(point)).toBe("CAST(X'e61000000101000000000000000000f03f0000000000000040' AS BINARY)");
    for (const bad of [{ x: 1, y: 2 }, 'POINT(1 2)', Buffer.alloc(8)]) expect(thrown(() => g!.literal(bad)).code).toBe('DataInvalid');
  });

  it('TEXT and BLOB literals: text in the column collation (bytes as they are), BLOB as binary; the unordered bound query', () => {
    const s = schema([column('t', 'mediumtext'), column('b', 'longblob')], ['t', 'b']);
    const [t, b] = keyColumnSql(s, ['t', 'b'], new Map([['t', { charset: 'utf8mb4', collation: 'utf8mb4_general_ci' }]]));
    expect(t!.literal('Ab ')).toBe("CONVERT(_utf8mb4 X'416220' USING utf8mb4) COLLATE utf8mb4_general_ci");
    expect(t!.literal(Buffer.from('e9', 'hex'))).toBe("CONVERT(_binary X'e9' USING utf8mb4) COLLATE utf8mb4_general_ci");
    expect(b!.literal(Buffer.from('00ff', 'hex'))).toBe("CAST(X'00ff' AS BINARY)");
    expect(unorderedBoundSql('`app`.`t`', ['t'], '`t`', ' WHERE x', 100)).toBe(
      'SELECT b.*, COUNT(*) OVER () AS tidemark_chunk_rows FROM (SELECT `t` FROM `app`.`t` WHERE x LIMIT 100) AS b ORDER BY b.`t` DESC LIMIT 1',
    );
  });

  it('chunkable column types', () => {
    expect(['int(11)', 'bigint(20) unsigned', 'tinyint(1)'].map(keyColumnKind)).toEqual(['integer', 'integer', 'integer']);
    const server = ['varchar(3)', 'char(36)', 'binary(16)', 'varbinary(8)', 'date', 'datetime(6)', 'time(3)', 'decimal(10,2)', 'timestamp(6)', 'year(4)', 'float', 'double', 'bit(8)', 'uuid', 'inet4', 'inet6'];
    expect(server.map(keyColumnKind)).toEqual(Array(server.length).fill('server'));
    expect(["enum('a','b')", "set('x')", 'text', 'mediumblob', 'point', 'geometry', 'multipolygon', 'vector(4)'].map(keyColumnKind)).toEqual(['enum', 'set', 'lob', 'lob', 'spatial', 'spatial', 'spatial', null]);
  });

  it('plans: the whole primary key as a tuple; a single integer key on the fast path; an unorderable column ends the tuple', () => {
    const t = (cols: ColumnSchema[], pk: string[], keys: Record<string, string> = {}) => planChunks(schema(cols, pk), config(keys));
    expect(t([column('id', 'int(11)')], ['id'])).toMatchObject({ keyColumn: 'id', tuple: null, keyless: false });
    expect(t([column('a', 'varchar(9)'), column('b', 'date')], ['a', 'b']).tuple).toMatchObject({ columns: ['a', 'b'], kinds: ['server', 'server'], unique: true });
    expect(t([column('a', 'int(11)'), column('b', 'int(11)')], ['a', 'b']).tuple).toMatchObject({ columns: ['a', 'b'], kinds: ['integer', 'integer'], unique: true });
    expect(t([column('a', 'varchar(9)'), column('e', "enum('x')")], ['a', 'e']).tuple).toMatchObject({ columns: ['a', 'e'], unique: true, ordered: true });
    expect(t([column('e', "enum('x')"), column('a', 'int(11)')], ['e', 'a']).tuple).toMatchObject({ columns: ['e', 'a'], kinds: ['enum', 'integer'], unique: true });
    // TEXT/BLOB end the tuple (their index holds a prefix), and their bounds are read unordered.
    expect(t([column('t', 'text'), column('a', 'int(11)')], ['t', 'a']).tuple).toMatchObject({ columns: ['t'], unique: false, ordered: false });
    // So do spatial columns (a B-tree index on one holds a prefix of its stored bytes).
    // (limitToPrefixIndex, with the server's SUB_PART, then makes their bounds unordered.)
    expect(t([column('p', 'point'), column('a', 'int(11)')], ['p', 'a']).tuple).toMatchObject({ columns: ['p'], kinds: ['spatial'], unique: false });
    expect(t([column('a', 'date'), column('g', 'geometry'), column('b', 'int(11)')], ['a', 'g', 'b']).tuple).toMatchObject({ columns: ['a', 'g'], unique: false });
    expect(t([column('v', 'vector(4)'), column('a', 'int(11)')], ['v', 'a'])).toMatchObject({ keyColumn: null, tuple: null });
    // A primary key on a prefix of a VARCHAR column: cut there, bounds read unordered.
    const prefixed = t([column('a', 'date'), column('v', 'varchar(255)'), column('b', 'int(11)')], ['a', 'v', 'b']).tuple!;
    limitToPrefixIndex(prefixed, new Set(['v']));
    expect(prefixed).toMatchObject({ columns: ['a', 'v'], kinds: ['server', 'server'], unique: false, ordered: false });
    expect(t([column('id', 'int(11)'), column('g', 'varchar(9)')], [], { 'app.t': 'g' })).toMatchObject({ keyless: true, tuple: { columns: ['g'], unique: false } });
  });

  it('describeOneChunk: no one-chunk warning for ENUM, SET, TEXT, BLOB, UUID, INET4, INET6 or spatial first key columns; one for unknown types', () => {
    const warn = (type: string) => describeOneChunk(schema([column('k', type), column('id', 'int(11)')], ['k', 'id']), config());
    const chunked = ["enum('a','b')", "set('a','b')", 'text', 'blob', 'tinytext', 'longblob', 'uuid', 'inet4', 'inet6', 'point', 'geometry', 'geometrycollection'];
    expect(chunked.map(warn)).toEqual(Array(chunked.length).fill(null));
    expect(warn('vector(4)')).toBe(
      "app.t's first key column k is vector(4), which cannot be chunked by: its snapshot is read as one chunk, held in memory whole (set scan.incremental.snapshot.chunk.key-column to another key column to chunk it)",
    );
  });

  it('scan.incremental.snapshot.chunk.key-column errors name the table and column', () => {
    const t = (cols: ColumnSchema[], pk: string[], keys: Record<string, string>) => thrown(() => planChunks(schema(cols, pk), config(keys)));
    expect(t([column('id', 'int(11)'), column('g', 'varchar(9)')], ['id'], { 'app.t': 'g' })).toEqual({
      code: 'InvalidInput',
      message: 'scan.incremental.snapshot.chunk.key-column: g is not a primary-key column of app.t (key: id)',
    });
    expect(t([column('g', 'varchar(9)', true)], [], { 'app.t': 'g' })).toEqual({
      code: 'InvalidInput',
      message: 'scan.incremental.snapshot.chunk.key-column: app.t.g may be NULL; a table without a primary key is chunked by a NOT NULL column',
    });
    expect(t([column('g', 'varchar(9)')], [], { 'app.t': 'nope' })).toEqual({ code: 'InvalidInput', message: 'scan.incremental.snapshot.chunk.key-column: app.t has no column nope' });
    expect(t([column('f', 'vector(4)')], [], { 'app.t': 'f' })).toEqual({
      code: 'Unsupported',
      message:
        'scan.incremental.snapshot.chunk.key-column: app.t.f is vector(4), which cannot be chunked by (integer, decimal, float, double, bit, year, date, datetime, timestamp, time, char, varchar, binary, varbinary, uuid, inet4, inet6, enum, set, text, blob or a spatial type)',
    });
    // A spatial column of a keyless table is planned (its B-tree index is checked on the server: key-indexes.ts).
    // Keyless tables scan in insertion order: their TEXT/BLOB and spatial bounds are read sorted.
    expect(planChunks(schema([column('f', 'point')], []), config({ 'app.t': 'f' })).tuple).toMatchObject({ columns: ['f'], kinds: ['spatial'], ordered: true });
    expect(planChunks(schema([column('f', 'text')], []), config({ 'app.t': 'f' })).tuple).toMatchObject({ columns: ['f'], kinds: ['lob'], ordered: true });
  });
});
