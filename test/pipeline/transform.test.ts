import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema, TableSchema } from '../../core/cdc';
import { compileFilter, compileProjection, compileTransform, transformColumnTypes, type RowMeta } from '../../core/pipeline';
import { formatType } from '../../core/pipeline/transform';
import { parseExpression } from '../../core/pipeline/transform/parser';
import { isTidemarkError } from '../../core/errors';

const META: RowMeta = { namespaceName: null, schemaName: 'app', tableName: 'order_1', dataEventType: '+I', opTs: 1_700_000_000_000 };
const evalFilter = (text: string, row: Record<string, unknown>) => compileFilter(text).evaluate(row as never, META);

const column = (name: string, mysqlType: string, icebergType: ColumnSchema['icebergType'], nullable = true): ColumnSchema => ({ name, mysqlType, icebergType, nullable, position: 0 });
const ORDERS: TableSchema = {
  table: { db: 'app', table: 'order_1' },
  primaryKey: ['id'],
  columns: [
    column('id', 'bigint(20)', { type: 'long' }, false),
    column('qty', 'tinyint(4)', { type: 'int' }),
    column('amount', 'decimal(10,2)', { type: 'decimal', precision: 10, scale: 2 }),
    column('name', 'varchar(40)', { type: 'string' }),
    column('created', 'datetime(3)', { type: 'timestamp' }),
    column('day', 'date', { type: 'date' }),
  ],
};
// 2024-03-01 10:15:30.250 as µs of the wall clock (core/cdc canonical form); 2024-03-01 as days.
const CREATED = 1_709_288_130_250_000n;
const DAY = 19_783;

describe('filter expressions', () => {
  it('compares numbers of any width, decimal text and strings', () => {
    const row = { id: 5n, amount: '12.50', name: 'Ann', qty: 3 };
    expect(evalFilter("id > 4 AND amount = 12.5 AND name <> 'Bob'", row)).toBe(true);
    expect(evalFilter('id * 2 + qty = 13', row)).toBe(true);
    expect(evalFilter('id / 2 = 2', row)).toBe(true); // BIGINT division truncates (Java)
    expect(evalFilter('qty / 2 = 1', row)).toBe(true); // so does INT division
    expect(evalFilter('CAST(qty AS DOUBLE) / 2 = 1.5', row)).toBe(true);
    expect(evalFilter('id % 3 = 2 AND -qty < 0', row)).toBe(true);
    expect(evalFilter("name || '!' = 'Ann!'", row)).toBe(true);
    expect(evalFilter('id BETWEEN 1 AND 5 AND qty NOT BETWEEN 4 AND 9', row)).toBe(true);
  });

  it('IN, LIKE (regex without ESCAPE, SQL with it), SIMILAR TO, IS [NOT] NULL, IS TRUE', () => {
    const row = { s: 'a_b%', n: null, flag: true };
    expect(evalFilter("s IN ('x', 'a_b%')", row)).toBe(true);
    expect(evalFilter("s NOT IN ('x')", row)).toBe(true);
    // Flink CDC: LIKE without ESCAPE is a Java regular expression found anywhere in the text.
    expect(evalFilter("s LIKE '^a.b'", row)).toBe(true);
    expect(evalFilter("s LIKE 'zzz'", row)).toBe(false);
    expect(evalFilter("s LIKE 'a!_b!%' ESCAPE '!'", row)).toBe(true);
    expect(evalFilter("'axb' LIKE 'a!_b' ESCAPE '!'", row)).toBe(false);
    expect(evalFilter("s SIMILAR TO '(a|b)_b%'", row)).toBe(true);
    expect(evalFilter("s SIMILAR TO 'a!_b!%' ESCAPE '!'", row)).toBe(true);
    expect(evalFilter("'axb' SIMILAR TO 'a!_b' ESCAPE '!'", row)).toBe(false);
    // LIKE and SIMILAR TO check ESCAPE alike: text when compiled, one character when evaluated.
    for (const op of ['LIKE', 'SIMILAR TO']) {
      expect(() => evalFilter(`s ${op} 'a!_b%' ESCAPE '!!'`, row)).toThrow(expect.objectContaining({ code: 'DataInvalid', message: 'ESCAPE must be one character, found "!!"' }));
      expect(() => evalFilter(`s ${op} 'a' ESCAPE 1`, row)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'filter: ESCAPE expects text, found INT' }));
    }
    expect(evalFilter('n IS NULL AND s IS NOT NULL AND flag IS TRUE AND n IS NOT TRUE', row)).toBe(true);
  });

  it("uses Flink CDC's NULL semantics", () => {
    const row = { x: null, y: 1 };
    // Comparisons, BETWEEN and IN with NULL are FALSE (ComparisonFunctions); <> and NOT IN are their negation.
    expect(evalFilter('x > 1', row)).toBe(false);
    expect(evalFilter('x = 1', row)).toBe(false);
    expect(evalFilter('x <> 1', row)).toBe(true);
    expect(evalFilter('NOT (x > 1)', row)).toBe(true);
    expect(evalFilter('x BETWEEN 0 AND 2', row)).toBe(false);
    expect(evalFilter('x IN (1, 2)', row)).toBe(false);
    expect(evalFilter('y IN (2, NULL)', row)).toBe(false);
    expect(evalFilter('y NOT IN (2, NULL)', row)).toBe(true);
    // AND, OR and NOT stay three-valued.
    expect(evalFilter('x IS NULL AND CAST(NULL AS BOOLEAN)', row)).toBeNull();
    expect(evalFilter('y = 1 OR CAST(NULL AS BOOLEAN)', row)).toBe(true);
    expect(evalFilter('y = 2 AND CAST(NULL AS BOOLEAN)', row)).toBe(false);
    expect(evalFilter("x LIKE 'a%' ESCAPE '!'", row)).toBeNull();
    expect(evalFilter('x + 1 = 2', row)).toBe(false);
    expect(compileFilter('CAST(NULL AS BOOLEAN)').test(row as never, META)).toBe(false); // NULL drops the row
  });

  it('reads metadata columns', () => {
    expect(evalFilter("__table_name__ LIKE 'order!_%' ESCAPE '!' AND __schema_name__ = 'app'", {})).toBe(true);
    expect(evalFilter("__data_event_type__ = '+I' AND __namespace_name__ IS NULL AND op_ts > 0", {})).toBe(true);
  });

  it('rejects unsupported constructs by name, with the column', () => {
    const cases: [string, string][] = [
      ['FOO(a) = 1', 'function FOO() is not supported in transform expressions: it is not a Flink CDC built-in function, and user-defined functions (Java or Python code) do not run in Tidemark (column 1)'],
      ['a IN (SELECT b FROM t)', 'IN (subquery) is not supported in transform expressions (column 7)'],
      ['t.a = 1', 'qualified name t.a is not supported in transform expressions (column 1)'],
      ['a[1] = 1', 'subscript [ ] is not supported in transform expressions: it reads ARRAY, MAP, ROW or VARIANT values, which a MySQL source does not produce (column 2)'],
      ['CARDINALITY(ARRAY[1]) = 1', "ARRAY constructor is not supported in transform expressions: ARRAY values do not come from a MySQL source and Tidemark's Iceberg tables have no such columns (column 13)"],
    ];
    for (const [text, message] of cases) {
      expect(() => compileFilter(text), text).toThrow(expect.objectContaining({ code: 'Unsupported', message }));
    }
    expect(() => compileFilter("CAST(s AS DATE) = CAST('2024-01-01' AS DATE)")).toThrow(expect.objectContaining({ code: 'Unsupported', message: 'CAST to DATE is not supported: Flink CDC 3.x casts only to BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL, CHAR/VARCHAR/STRING and TIMESTAMP (use TO_DATE) (column 1)' }));
  });

  it('reports syntax errors as InvalidInput with the column', () => {
    const cases: [string, string][] = [
      ['a = ', 'expected a value, found end of expression (column 5)'],
      ["a = 'x", 'unterminated string literal (column 5)'],
      ['a = 1 1', 'unexpected "1" after the expression (column 7)'],
      ['(a = 1', 'expected ")", found end of expression (column 7)'],
      ['a ? 1', 'unexpected character "?" (column 3)'],
      ['a IS 5', 'expected NULL, TRUE or FALSE after IS, found "5" (column 6)'],
      ['CASE a END = 1', 'expected WHEN, found "END" (column 8)'],
      ['42', 'filter must be a condition, found the value 42 (column 1)'],
    ];
    for (const [text, message] of cases) {
      expect(() => compileFilter(text), text).toThrow(expect.objectContaining({ code: 'InvalidInput', message }));
    }
    expect(() => evalFilter('UPPER(a, b) = 1', { a: 'x', b: 'y' })).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'UPPER() takes 1 argument(s), found 2 (column 1)' }));
  });

  it('names the problem: unknown columns and mismatched types at compile time, bad values per row', () => {
    expect(() => evalFilter('nope = 1', { id: 1 })).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'filter: unknown column "nope"' }));
    expect(() => evalFilter("name + 1 = 2", { name: 'x' })).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'filter: + expects numbers, found VARCHAR' }));
    expect(() => evalFilter('id / 0 = 1', { id: 1 })).toThrow(expect.objectContaining({ code: 'DataInvalid', message: 'division by zero (java.lang.ArithmeticException: / by zero)' }));
    expect(() => evalFilter("CAST(s AS TIMESTAMP) IS NULL", { s: 'soon' })).toThrow(expect.objectContaining({ code: 'DataInvalid', message: expect.stringContaining('cannot cast "soon" to TIMESTAMP') }));
    expect(evalFilter("TRY_CAST(s AS TIMESTAMP) IS NULL", { s: 'soon' })).toBe(true);
  });
});

describe('projection', () => {
  it('expands *, renames with AS, computes expressions and metadata columns', () => {
    const p = compileProjection("\\*, UPPER(name) AS name_u, amount * 2 doubled, __table_name__, op_ts AS ts, CONCAT(__schema_name__, '.', __table_name__) AS src");
    expect(p.outputColumns(['id', 'name', 'amount'])).toEqual(['id', 'name', 'amount', 'name_u', 'doubled', '__table_name__', 'ts', 'src']);
    expect(p.apply({ id: 1n, name: 'ann', amount: 2.5 }, META)).toEqual({
      id: 1n, name: 'ann', amount: 2.5, name_u: 'ANN', doubled: 5, __table_name__: 'order_1', ts: 1_700_000_000_000n, src: 'app.order_1',
    });
    expect(p.sourceColumns.sort()).toEqual(['amount', 'name']);
    expect(p.metadataColumns.sort()).toEqual(['__schema_name__', '__table_name__', 'op_ts']);
  });

  it('a computed column named like a source column replaces it in place', () => {
    const p = compileProjection('\\*, TRIM(name) AS name');
    expect(p.outputColumns(['id', 'name'])).toEqual(['id', 'name']);
    expect(p.apply({ id: 1, name: '  x ' }, META)).toEqual({ id: 1, name: 'x' });
  });

  it('column lists keep order; functions are NULL-strict except COALESCE, IFNULL and CONCAT', () => {
    const p = compileProjection("b, a, SUBSTR(s, 2, 3) AS sub, CHAR_LENGTH(s) AS len, COALESCE(n, 0) AS c, LOWER(n) AS l, ABS(-3) AS abs, ROUND(2.5) AS r, FLOOR(-1.5) AS f, CONCAT(s, n) AS cat, IFNULL(n, 'd') AS d");
    expect(p.apply({ a: 1, b: 2, s: 'héllo', n: null }, META)).toEqual({ b: 2, a: 1, sub: 'éll', len: 5, c: 0, l: null, abs: 3, r: '3', f: '-2', cat: 'héllonull', d: 'd' });
  });

  it('rejects unnamed expressions and duplicate names', () => {
    expect(() => compileProjection('id, amount * 2')).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'projection item 2 (amount * 2) needs a name: write amount * 2 AS name (column 5)' }));
    expect(() => compileProjection('id, x AS ID')).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'projection names column "ID" twice (items 1 and 2) (column 5)' }));
  });
});

describe('compileTransform', () => {
  it('filters on source and computed columns and returns the projected row', () => {
    const t = compileTransform('id, amount * 2 AS doubled', 'doubled > 10 AND note IS NULL');
    expect(t.outputColumns(['id', 'amount', 'note'])).toEqual(['id', 'doubled']);
    expect(t.apply({ id: 1, amount: 6, note: null }, META)).toEqual({ id: 1, doubled: 12 });
    expect(t.apply({ id: 2, amount: 5, note: null }, META)).toBeNull();
    expect(t.apply({ id: 3, amount: 6, note: 'x' }, META)).toBeNull();
  });

  it("bound to a MySQL table: Flink CDC's result types, canonical values for the sink", () => {
    const t = compileTransform(
      "id, qty + 1 AS qty1, amount * 2 AS amount2, CASE WHEN qty > 2 THEN 'many' ELSE 'few' END AS size, CAST(amount AS INT) AS whole, DATE_FORMAT(created, 'yyyy-MM-dd HH:mm') AS at, TIMESTAMPDIFF(DAY, day, created) AS age, op_ts AS changed",
      "name LIKE '^ann' AND qty IS NOT NULL",
    );
    const bound = t.bind(ORDERS);
    expect(bound.columns.map((c) => `${c.name}:${formatType(c.type)}`)).toEqual([
      'id:BIGINT NOT NULL', 'qty1:INT', 'amount2:DECIMAL(19, 2)', 'size:STRING', 'whole:INT', 'at:STRING', 'age:INT', 'changed:BIGINT NOT NULL',
    ]);
    const row = { id: 7n, qty: 3, amount: '12.25', name: 'annie', created: CREATED, day: DAY };
    expect(t.apply(row, META)).toEqual({ id: 7n, qty1: 4, amount2: '24.50', size: 'many', whole: 12, at: '2024-03-01 10:15', age: 0, changed: 1_700_000_000_000n });
    expect(t.apply({ ...row, name: 'bob' }, META)).toBeNull();
    const plan = { source: ORDERS.table, targets: [], transformIndex: 0, columns: t.outputColumns(ORDERS.columns.map((c) => c.name)) };
    expect([...transformColumnTypes(ORDERS, plan, t)]).toEqual([
      ['id', 'long'], ['qty1', 'int'], ['amount2', 'decimal(19,2)'], ['size', 'string'], ['whole', 'int'], ['at', 'string'], ['age', 'int'], ['changed', 'long'],
    ]);
  });

  it('reads pipeline.local-time-zone and transform.decimal.precision.mode', () => {
    const paid = column('paid', 'timestamp(3)', { type: 'timestamptz' });
    const schema: TableSchema = { ...ORDERS, columns: [...ORDERS.columns, paid] };
    const projection = "id, DATE_FORMAT(paid, 'yyyy-MM-dd HH:mm') AS local, CAST(paid AS TIMESTAMP(3)) AS wall, CAST(amount AS DECIMAL(30, 2)) AS wide";
    // 2024-03-01 20:30:00 UTC as µs since the epoch (a MySQL TIMESTAMP: an instant).
    const row = { id: 1n, qty: 1, amount: '2.50', name: 'a', created: CREATED, day: DAY, paid: 1_709_325_000_000_000n };
    const shanghai = compileTransform(projection, null, { localTimeZone: 'Asia/Shanghai', transformDecimalPrecisionMode: 'UP_TO_38' });
    expect(shanghai.bind(schema).columns.map((c) => formatType(c.type))).toEqual(['BIGINT NOT NULL', 'STRING', 'TIMESTAMP(3)', 'DECIMAL(30, 2)']);
    expect(shanghai.apply(row, META)).toEqual({ id: 1n, local: '2024-03-02 04:30', wall: 1_709_353_800_000_000n, wide: '2.50' });
    const utc = compileTransform(projection, null, { localTimeZone: 'UTC', transformDecimalPrecisionMode: 'UP_TO_19' });
    expect(utc.bind(schema).columns.map((c) => formatType(c.type))[3]).toBe('DECIMAL(19, 2)');
    expect(utc.apply(row, META)).toEqual({ id: 1n, local: '2024-03-01 20:30', wall: 1_709_325_000_000_000n, wide: '2.50' });
  });

  it('refuses at bind time what does not fit the table, naming the item', () => {
    const t = compileTransform("id, name * 2 AS twice", null);
    expect(() => t.bind(ORDERS)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'projection item name * 2 AS twice: * expects numbers, found VARCHAR' }));
  });
});

describe('expression parser robustness', () => {
  const alphabet = fc.constantFrom(
    ...'abcxyz_019 .,()\'"`*\\+-/%|=<>!?[]'.split(''),
    'AND', 'OR', 'NOT', 'IS', 'NULL', 'IN', 'LIKE', 'BETWEEN', 'ESCAPE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'UPPER(', 'AS', 'CAST(', 'TRY_CAST(',
    'INTERVAL', "'1' DAY", 'DECIMAL(5, 2)', 'TIMESTAMP(3)', 'POSITION(', 'TRIM(', 'LEADING', 'FROM', 'FOR', 'SUBSTRING(', 'DATE_FORMAT(', 'SIMILAR TO', 'DISTINCT',
    'x', 'n', 's', "'2024-01-01'", '1.5', '99999999999',
  );
  it('never throws anything but a TidemarkError (random text, compiled and applied to a row)', () => {
    const row = { x: 5, n: null, s: 'a(b', a: 1n, b: 'x', c: true };
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 40 }).map((a) => a.join(''))), (text) => {
        for (const f of [parseExpression, compileFilter, compileProjection]) {
          try {
            const compiled = f(text);
            if ('evaluate' in compiled) compiled.evaluate(row as never, META);
            if ('apply' in compiled) compiled.apply(row as never, META);
          } catch (e) {
            if (!isTidemarkError(e)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('deep nesting is a typed error, not a stack overflow', () => {
    expect(() => parseExpression(`${'('.repeat(5000)}1${')'.repeat(5000)}`)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'expression nested deeper than 100 levels (column 101)' }));
    expect(() => parseExpression(`${'NOT '.repeat(5000)}a`)).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
  });
});
